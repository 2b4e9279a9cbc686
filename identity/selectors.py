"""Read use cases of identity."""
