"""The package's test project under ASGI, with the access lines, as the README's asgi.py shows."""

import os

from django.core.asgi import get_asgi_application

from django_elk_logging.asgi import AccessLogMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_for_tests")
application = AccessLogMiddleware(get_asgi_application())
