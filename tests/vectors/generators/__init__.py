"""Test-vector generators (not runtime code): ``core`` writes tests/vectors, ``trustees``
tests/vectors/trustees, from fixed seeds with the published civic_votecrypto library."""
