"""The verbs of the product.  Services change objects and flush; the caller commits."""
