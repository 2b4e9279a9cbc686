"""Blockchain anchoring of the ledger's witnessed checkpoints (a Django app, label ``anchoring``)."""
