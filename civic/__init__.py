"""Civic project package: loads the Celery app with Django so shared_task binds to it."""

from civic.celery import app as celery_app

__all__ = ["celery_app"]
