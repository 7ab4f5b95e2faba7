"""The sample app with the production LOGGING, each handler behind a queue and a writer thread (bench/queued_logging.py)."""

from bench.logging_configs import queued
from config.settings import *  # noqa: F403
from config.settings import LOGGING as PRODUCTION_LOGGING

LOGGING = queued(PRODUCTION_LOGGING)
