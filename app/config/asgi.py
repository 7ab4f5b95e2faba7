"""The sample app under an ASGI server (uvicorn, daphne), with the access line gunicorn writes under WSGI.

    uvicorn config.asgi:application --no-proxy-headers --no-access-log
"""

import os

from django.core.asgi import get_asgi_application
from django_elk_logging.asgi import AccessLogMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = AccessLogMiddleware(get_asgi_application(), skipped_paths={"/healthz"})
