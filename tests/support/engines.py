"""Logstash's engines (stack_models/joni.py) as the tests use them: skip without them, fail under CI."""

import os

import pytest

from stack_models.joni import Engine, missing_reason, shared_engine


def engine_for_tests():
    """The engine, or None with a skip reason outside CI; under CI=true a missing engine fails."""
    reason = missing_reason()
    if reason is None:
        return shared_engine()
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must check on the real engines: {reason}")
    return None


def require_engine() -> Engine:
    """For tests that need the engine itself: skip with the reason, or fail under CI=true."""
    engine = engine_for_tests()
    if engine is None:
        pytest.skip(missing_reason())
    return engine
