"""The load and fault harness shared by bench/load.py, bench/faults.py and tests/load/ (a private
PostgreSQL cluster, Redis, gunicorn, Celery and Locust voters; see run.py)."""
