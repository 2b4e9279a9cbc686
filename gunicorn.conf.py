"""gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py itself).

The access log records no client address, user agent or referer, for every request: a cast
ballot's request line must not sit next to the address it came from (docs/operations.md,
"Ballot box privacy"). Command-line flags still override anything here.
"""

access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
