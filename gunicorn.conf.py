"""gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py itself).

The access log records no client address, user agent or referer, for every request: a cast
ballot's request line must not sit next to the address it came from (docs/operations.md,
"Ballot box privacy"). Command-line flags still override anything here.

Workers: the cast path is CPU-bound Python (about 7 ms of one core per cast, see
docs/operations.md "Sizing"), so one process per core (``WEB_CONCURRENCY``, default the core
count) with two threads each (``GUNICORN_THREADS``): the second thread runs while the first waits
on PostgreSQL; more threads only queue on the GIL. gthread workers keep client connections
alive (``keepalive`` seconds), which saves a TCP handshake per request behind a proxy that reuses
connections.
"""

import os

access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
keepalive = 5
