"""Tests of civic_tlog (RFC 9162 Merkle trees, C2SP signed notes and tiles) against the public
conformance vectors: pure, also run in the standalone observer install."""
