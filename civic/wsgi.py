"""WSGI entry point (gunicorn civic.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
application = get_wsgi_application()
