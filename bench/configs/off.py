"""The sample app with logging off."""

from bench.logging_configs import logging_off
from config.settings import *  # noqa: F403

LOGGING = logging_off()
