"""WSGI entry point (gunicorn civic.wsgi): Django behind the request-body deadline
(civic.body_deadline: a body that is late gets 408, one too large 413, before any view)."""

import os

from django.core.wsgi import get_wsgi_application

from civic.body_deadline import wrap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
application = wrap(get_wsgi_application())
