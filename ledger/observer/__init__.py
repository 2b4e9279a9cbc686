"""The observer node: mirrors Civic's transparency logs, verifies them, and cosigns them.

Talks to the city only over HTTP and imports nothing from Django (only ledger.merkle, ledger.note
and ledger.tiles), so anyone can run it: ``python -m ledger.observer --help``.
"""
