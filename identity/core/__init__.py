"""Pure cryptographic core of the identity app: no Django import anywhere in this package.

Observers and third-party verifiers can use these modules alone: JCS canonical JSON,
did:key / did:web, eddsa-jcs-2022 Data Integrity proofs, Bitstring Status List and
RFC 9474 RSA blind signatures.
"""
