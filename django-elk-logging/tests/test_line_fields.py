"""The fields before the context are one word each, whatever a file's or a level's name holds.

A space in a module's name (``my module.py``) would end the module early and hide the context from
the pipeline's grok; a space or a colon in a name from logging.addLevelName would keep the record from
starting an event (patterns/django, DJANGO_LEVEL) and glue it to the one before; a newline would forge
a line. The formatter writes them escaped, and leaves the record as the other handlers see it.
"""

import logging
import re

from hypothesis import given
from hypothesis import strategies as st

from django_elk_logging.log_lines import SafeFormatter

FORMAT = "{levelname} {asctime} {module} {message}"
# The pipeline's record start (logstash/pipeline/patterns/django, DJANGO_LEVEL and DJANGO_TIMESTAMP) and
# module (the grok's NOTSPACE): "Level N" or a word without a colon, the timestamp, one word. Ruby's \s is
# ASCII-only (a no-break space is part of a word), so it is spelled out here.
LINE_START = re.compile(
    r"(Level -?[0-9]+|[^ \t\n\v\f\r:]+) [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} ([^ \t\n\v\f\r]+) (.*)",
    re.S)
NAMES = st.text(
    alphabet=st.sampled_from(["a", " ", ":", "\\", "\n", "\r", "\t", "\u00a0", "\u2028", "\u202e", "<", ">", "é", "\u3164",
                              "\u0301"]),
)


def _record(pathname: str, level_name: str) -> logging.LogRecord:
    record = logging.LogRecord("myapp", logging.INFO, pathname, 1, "hello", None, None)
    record.levelname = level_name
    return record


@given(module_name=NAMES, level_name=NAMES)
def test_the_level_and_the_module_are_one_word_each_and_the_record_is_left_as_it_was(module_name, level_name):
    record = _record(f"/app/{module_name.replace('/', '')}.py", level_name)
    before = dict(record.__dict__)

    line = SafeFormatter(FORMAT).format(record)

    start = LINE_START.fullmatch(line)
    assert start and "\n" not in line and "\r" not in line
    level, module, rest = start.groups()
    assert rest.startswith("[request_id=")
    assert {key: value for key, value in record.__dict__.items() if key in before} == {
        key: value for key, value in before.items() if key not in ("message", "asctime")}


def test_examples():
    cases = {
        ("/app/my module.py", "NOTICE"): ("NOTICE", r"my\x20module"),
        ("<frozen importlib._bootstrap>", "MY NOTICE"): (r"MY\x20NOTICE", r"<frozen\x20importlib"),
        ("/app/views.py", "AUDIT:"): (r"AUDIT\x3a", "views"),
        ("/app/a\\b.py", "Level 25"): ("Level 25", r"a\\b"),
        ("/app/x\ny.py", "BAD\nLEVEL"): (r"BAD\nLEVEL", r"x\ny"),
        ("", ""): ("-", "-"),
        # Printable, yet escaped: an invisible letter, a mark with nothing to combine with, a no-break space.
        ("/app/views\u3164.py", "\u0301INFO"): (r"\u0301INFO", r"views\u3164"),
        ("/app/\u0301views.py", "INFO\u00a0"): (r"INFO\xa0", r"\u0301views"),
    }
    for (pathname, level_name), expected in cases.items():
        level, module, _ = LINE_START.fullmatch(SafeFormatter(FORMAT).format(_record(pathname, level_name))).groups()
        assert (level, module) == expected, pathname
