"""Civic voting cryptography: pure Python, no Django (an observer can run it alone).

Core (docs/protocol.md): ``group`` (secp256k1, strict encodings, py-ecc / native backends),
``hashing`` (hash chain, RFC 9380 challenges), ``elgamal``, ``proofs``, ``batch``,
``manifest``, ``ballot`` (encryption, verification, Benaloh challenge),
``native`` (libsecp256k1 backend), ``hash_to_curve`` (RFC 9380, for derived generators).
Trustees (docs/protocol-trustees.md): ``dkg``, ``decryption``, ``dlog``, ``record``,
``verifier``, ``trustee_file``, ``election`` (H_B from a manifest and (n, t)), ``trustee`` (CLI).

The test-vector generators are test tooling, in tests/vectors/generators.
"""
