"""The sample app with the production LOGGING less its console handler."""

from bench.logging_configs import without_console
from config.settings import *  # noqa: F403
from config.settings import LOGGING as PRODUCTION_LOGGING

LOGGING = without_console(PRODUCTION_LOGGING)
