"""Operators' jobs beside the CLI: backups, imports from other systems, the demo."""
