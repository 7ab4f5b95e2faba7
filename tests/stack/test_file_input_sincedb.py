"""How long the file inputs remember where they stopped in a file (sincedb_clean_after), on the model of
logstash-input-file in stack_models/logstash_sincedb.py, its duration parsing checked on Joni."""

import pytest

from provision.settings import RETENTION_RANGE
from stack_models.logstash_config import parse_config
from stack_models.logstash_config_tree import Plugin
from stack_models.logstash_sincedb import DURATION, clean_after_seconds, duration_seconds, read_from
from tests.support.engines import require_engine
from tests.support.paths import PIPELINE_PATH

DAY = 24 * 3600
RECORDED = 4096  # the byte a file was read to before it went quiet
# friendly_durations.rb's NUMBERS_RE as Ruby writes it, run on Joni against the model's translation.
RUBY_NUMBERS_RE = (r"^(?<number>\d+(\.\d+)?)\s?(?<units>s((ec)?(ond)?)(s)?|m((in)?(ute)?)(s)?|h(our)?(s)?|d(ay)?(s)?"
                   r"|w(eek)?(s)?|us(ec)?(s)?|ms(ec)?(s)?)?$")


def _file_inputs() -> list[Plugin]:
    return [item for item in parse_config(PIPELINE_PATH.read_text())["input"] if item.name == "file"]


def test_with_the_plugin_default_a_file_quiet_for_15_days_is_read_again_from_byte_0():
    """The failure the option is set against: 14 days, then the record is gone and the file starts over."""
    default = Plugin("file", [("start_position", "beginning")])
    assert read_from(default, RECORDED, idle_seconds=13 * DAY, size=RECORDED, first_discovery=True) == RECORDED
    assert read_from(default, RECORDED, idle_seconds=15 * DAY, size=RECORDED, first_discovery=True) == 0


@pytest.mark.parametrize("plugin", _file_inputs(), ids=lambda plugin: plugin.get("id"))
def test_every_input_resumes_a_file_quiet_for_longer_than_any_retention(plugin):
    """A live file quiet for weeks, a stack down for months, an old copy renamed again: never from byte 0."""
    for idle_days in (15, 400, RETENTION_RANGE[1] + 1):
        assert read_from(plugin, RECORDED, idle_seconds=idle_days * DAY, size=RECORDED, first_discovery=False) \
            == RECORDED, idle_days
    assert clean_after_seconds(plugin) > RETENTION_RANGE[1] * DAY


@pytest.mark.parametrize(("value", "seconds"), [
    ("14 days", 14 * DAY), (3650, 3650 * DAY), ("2w", 14 * DAY), ("1.5 h", 5400), ("250ms", 0.25),
    ("90 sec", 90), ("10 hs", 10),  # "hs" passes the expression but not the unit's case: seconds
])
def test_durations_parse_as_friendly_durations_does(value, seconds):
    assert duration_seconds(value, "days") == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["-1", "14 fortnights", "5  days", "days", ""])
def test_a_duration_the_plugin_refuses_is_refused(value):
    with pytest.raises(ValueError, match="is not a valid duration string"):
        duration_seconds(value, "days")


def test_the_duration_expression_agrees_with_joni():
    engine = require_engine()
    texts = ["36500 days", "14 days", "3650", "1.5 w", "msec", "10 hs", "x\n3 days", "5  days", "2 weeks", "7usecs",
             "1 minute", "3 mins", "0.5", "12 days\n", "1e3 days", "\u0661 days", "4\u00a0days"]
    for text in texts:
        model = DURATION.search(text)
        real = engine.grok(RUBY_NUMBERS_RE, text)
        assert (None if model is None else [("number", model["number"]), ("units", model["units"])]) == real, text
