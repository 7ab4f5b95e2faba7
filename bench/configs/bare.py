"""The sample app writing only the view's records, through logging.FileHandler."""

from bench.logging_configs import bare_minimum
from config.settings import *  # noqa: F403
from config.settings import LOG_DIR

LOGGING = bare_minimum(LOG_DIR)
