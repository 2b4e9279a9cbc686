"""Exception types shared by every module of civic_votecrypto.

One hierarchy so callers (views, CLI, verifier) can turn any cryptographic rejection into a
clean 4xx / non-zero exit with a single ``except CryptoError``.
"""

# API stable: other modules build on these names

from __future__ import annotations


class CryptoError(ValueError):
    """Base class: some cryptographic input was rejected."""


class EncodingError(CryptoError):
    """Bytes, hex or JSON that do not decode to a valid group element, scalar or object."""


class ProofError(CryptoError):
    """A zero-knowledge proof failed to verify (or could not be produced)."""


class BallotError(CryptoError):
    """A ballot, selection or manifest is inconsistent with the rules of its contest."""


class ElectionParametersError(CryptoError):
    """An election's trustee count and threshold cannot make a ceremony (not 1 <= t <= n)."""
