"""Importers: one module per source (Disqus, Isso), the items they yield, and the loader."""
