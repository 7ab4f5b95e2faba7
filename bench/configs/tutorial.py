"""The sample app with the logging tutorial's LOGGING."""

from bench.logging_configs import tutorial
from config.settings import *  # noqa: F403
from config.settings import LOG_DIR

LOGGING = tutorial(LOG_DIR)
