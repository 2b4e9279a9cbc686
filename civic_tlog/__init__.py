"""Civic transparency log: pure RFC 9162 Merkle proofs, C2SP signed notes, checkpoints,
cosignatures and tlog-tiles, and proofs from a tree stored as tiles. No Django: an observer, an
auditor or the city server runs the same code.
"""
