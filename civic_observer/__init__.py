"""The observer node: mirrors Civic's transparency logs, verifies them, and cosigns them.

Talks to the city only over HTTP and imports nothing from Django (only civic_tlog.merkle, civic_tlog.note
and civic_tlog.tiles), so anyone can run it: ``python -m civic_observer --help``.
"""
