"""Read use cases of identity, one module per family: DIDs and their resolution, challenges,
status lists, verification, claims and credentials."""
