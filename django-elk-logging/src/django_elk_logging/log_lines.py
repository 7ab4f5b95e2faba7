"""The log-line contract: the formatter behind LOGGING (the file handler is log_files.py).

Line contract (read by the stack's Logstash pipeline, logstash/pipeline/django.conf):

    LEVEL YYYY-MM-DD HH:MM:SS,mmm module [key=value ...] message
    <TAB>traceback line
    <TAB>...

The bracketed context always starts with ``request_id`` and ``record_id`` (random,
per record: Logstash fingerprints it, so a replay is not indexed twice and
two identical lines are never merged). Security records add
the fields of CONTEXT_FIELDS that apply (``event``, ``user``, ``client_ip``, ...). Every record then
carries where it was logged (ORIGIN_FIELDS) and who logged it (identity.py: host, service, ...). Everything
that can hold untrusted text is escaped (see escaping.py), so a record is one
line plus TAB-indented continuation lines and no input can forge a record.
"""

import copy
import logging
import os
import re
import sys
import time

from .escaping import neutralise, one_word
from .identity import Identity, rendered
from .redaction import redact_text, redact_url

MAX_MESSAGE_CHARS = 8192
MAX_FIELD_CHARS = 512
MAX_TRACEBACK_LINE_CHARS = 2048
# Below the Logstash multiline codec's max_lines (logstash/pipeline/django.conf;
# tests/stack/test_pipeline_patterns.py checks it), so a traceback is never
# split into two events.
MAX_TRACEBACK_LINES = 400
CONTINUATION_PREFIX = "\t"

# The request_id of a record logged outside any request.
NO_REQUEST_ID = "-"
# The context fields, in the order written; the pipeline's kv filter reads these keys (logstash/pipeline/django.conf).
# event: the action; event_code: its OWASP identifier (security_events.py). user: who acted (logged in, deactivated
# someone); target_user / target_group: whom an action was on (ECS user.target.*). privilege, old, new: one privilege
# of the target and its value before and after. object_type, object_id, operation: what an admin action changed
# (Django's LogEntry: "app_label.model", the primary key, addition/change/deletion). client_ip: the client, resolved
# through the trusted proxies; peer_ip: the address that connected (a proxy, or the client itself).
# client_request_id: the X-Request-ID the client sent, when well formed (request_id is always the server's own).
CONTEXT_FIELDS = (
    "request_id", "record_id", "event", "event_code", "user", "target_user", "target_group",
    "privilege", "old", "new", "object_type", "object_id", "operation",
    "client_ip", "peer_ip", "client_request_id", "path", "user_agent",
)
# Then where the record was logged, each key and the LogRecord attribute it is, as Elastic's ecs-logging-python
# fills log.logger, log.origin.file.name, log.origin.file.line, log.origin.function and process.pid
# (elastic/ecs-logging-python, ecs_logging/_stdlib.py, StdlibFormatter.format_to_ecs); then the
# identity's fields (identity.Identity: host, service, service_version, environment).
ORIGIN_FIELDS = (("logger", "name"), ("file", "filename"), ("line", "lineno"), ("function", "funcName"),
                 ("pid", "process"))
_BARE_VALUE = re.compile(r"[A-Za-z0-9._:/@+-]+")
# django.utils.log.log_response and log_message escape their str arguments with
# unicode_escape (Django 5.2.2, CVE-2025-48432) before they call the logger.
_DJANGO_LOG_MODULE = "django.utils.log"
_DJANGO_ESCAPING_FUNCTIONS = frozenset({"log_response", "log_message"})
# What Python names a level that has no name; the pipeline reads it with its space (patterns/django, DJANGO_LEVEL).
_UNNAMED_LEVEL = re.compile(r"Level -?[0-9]+")


# Record ids are cut from one os.urandom() call per _IDS_PER_DRAW records: 64 random bits
# each, as secrets.token_hex(8) gave, without a getrandom(2) per record.
_IDS_PER_DRAW = 256
_record_ids: list[str] = []
# A forked worker must never hand out the ids its parent had drawn.
os.register_at_fork(after_in_child=_record_ids.clear)


def new_record_id() -> str:
    """16 hex digits from os.urandom, never handed out twice (list.pop is atomic, so threads may share it)."""
    while True:
        try:
            return _record_ids.pop()
        except IndexError:
            drawn = os.urandom(8 * _IDS_PER_DRAW).hex()
            _record_ids.extend(drawn[start : start + 16] for start in range(0, len(drawn), 16))


def _escaped_by_django(record: logging.LogRecord) -> bool:
    module = sys.modules.get(_DJANGO_LOG_MODULE)
    return (
        record.funcName in _DJANGO_ESCAPING_FUNCTIONS
        and module is not None
        and record.pathname == module.__file__
    )


def _redacted_django_argument(text: str) -> str:
    """A path (request.path, decoded: it may hold spaces and line breaks) redacted whole; any other argument word
    by word."""
    return redact_url(text) if text.startswith("/") else redact_text(text)


def original_message(record: logging.LogRecord) -> str:
    """``record.getMessage()`` with the arguments Django escaped decoded back to what it was given, and the URLs in
    them redacted: the path of "Not Found: %s", the Referer of CSRF's "Referer checking failed - %s does not match
    any trusted origins" (django/middleware/csrf.py, REASON_BAD_REFERER, through log_response).

    neutralise() then escapes the whole message once, so one decode gives the
    original; Django's escaped form would otherwise get its backslashes doubled.
    """
    if record.args and isinstance(record.args, tuple) and _escaped_by_django(record):
        args = tuple(_redacted_django_argument(arg.encode("ascii").decode("unicode_escape")) if isinstance(arg, str)
                     else arg for arg in record.args)
        return str(record.msg) % args
    return record.getMessage()


def _is_word(text: str) -> bool:
    """Not empty, written as it is (nothing to escape, nothing cut), and no space: it stays one field as it is."""
    return text != "" and " " not in text and neutralise(text, MAX_FIELD_CHARS) == text


def _render_value(value: object) -> str:
    escaped = neutralise(str(value), MAX_FIELD_CHARS, quoted=True)
    return escaped if _BARE_VALUE.fullmatch(escaped) else f'"{escaped}"'


_WHERE_FIELDS = ORIGIN_FIELDS[:4]  # all but pid, which changes with each fork


def _render_where(where: tuple) -> str:
    return " ".join(f"{field}={_render_value(value)}" for (field, _), value in zip(_WHERE_FIELDS, where, strict=True)
                    if value not in (None, ""))


class _WhereTexts(dict):
    """(logger, file, line, function) -> its rendering. A process logs from a few hundred places, each escaped
    once; at most MAX_ENTRIES kept, so names made up at run time cannot grow it."""

    MAX_ENTRIES = 4096

    def __missing__(self, where: tuple) -> str:
        text = _render_where(where)
        if len(self) < self.MAX_ENTRIES:
            self[where] = text
        return text


_where_texts = _WhereTexts()


def _origin(record: logging.LogRecord) -> str:
    """" logger=... file=... line=... function=... pid=...", each left out when None or empty."""
    where = (getattr(record, "name", None), getattr(record, "filename", None), getattr(record, "lineno", None),
             getattr(record, "funcName", None))
    try:
        text = _where_texts[where]
    except TypeError:  # unhashable: a filter put something odd there
        text = _render_where(where)
    pid = getattr(record, "process", None)
    if pid not in (None, ""):
        pid_pair = f"pid={pid if type(pid) is int else _render_value(pid)}"
        text = f"{text} {pid_pair}" if text else pid_pair
    return f" {text}" if text else ""


def _identity_pairs(current: Identity) -> str:
    """" host=... service=...": pid is the record's own (record.process), so a forked worker writes its own."""
    return "".join(f" {field}={_render_value(value)}" for field, value in current._asdict().items()
                   if value not in (None, ""))


class SafeFormatter(logging.Formatter):
    """A Formatter whose ``message`` is escaped, bounded and (optionally) led by the record's context."""

    def __init__(self, fmt=None, datefmt=None, style="{", validate=True, *, with_context=True):
        super().__init__(fmt, datefmt, style, validate)
        self.with_context = with_context
        # (second, datefmt, that second's text): one tuple, so threads read it whole.
        self._second_text: tuple[int, str | None, str] = (-1, None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging.Formatter.formatTime's text, with strftime run once per second instead of per record.

        The key is the second since the epoch, not the wall clock, so a DST change (a repeated
        or skipped hour) is a new key like any other second.
        """
        second, cached_datefmt, text = self._second_text
        if second != int(record.created) or cached_datefmt != datefmt:
            text = time.strftime(datefmt or self.default_time_format, self.converter(record.created))
            self._second_text = (int(record.created), datefmt, text)
        if datefmt or not self.default_msec_format:
            return text
        return self.default_msec_format % (text, record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        message = neutralise(original_message(record), MAX_MESSAGE_CHARS)
        if self.with_context:
            message = f"[{self._context(record)}] {message}"
        record.message = message
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        return line + "".join("\n" + CONTINUATION_PREFIX + text for text in self._continuation_lines(record))

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, its module and level name each written as one word.

        Both come before the context, outside quotes: a space in a file's name (``my module.py``) would
        end the module early and hide the context from the pipeline, a space or a colon in a level name
        from logging.addLevelName would keep the record from starting an event (glued to the one
        before), and a control character would forge a line. A copy carries the escaped names, so the
        other handlers see the record as it was.
        """
        module, level = record.module, str(record.levelname)
        level_is_word = _is_word(level) and ":" not in level or _UNNAMED_LEVEL.fullmatch(level)
        if _is_word(module) and level_is_word:
            return super().formatMessage(record)
        shown = copy.copy(record)
        # An empty name would leave two spaces in a row: "-", as for any field with no value.
        shown.module = one_word(neutralise(module, MAX_FIELD_CHARS)) or "-"
        if not level_is_word:
            shown.levelname = one_word(neutralise(level, MAX_FIELD_CHARS)).replace(":", "\\x3a") or "-"
        return super().formatMessage(shown)

    @staticmethod
    def _context(record: logging.LogRecord) -> str:
        if not hasattr(record, "record_id"):
            record.record_id = new_record_id()
        pairs = [f"request_id={_render_value(getattr(record, 'request_id', NO_REQUEST_ID))}"]
        for field in CONTEXT_FIELDS[1:]:
            value = getattr(record, field, None)
            if value not in (None, ""):
                pairs.append(f"{field}={_render_value(value)}")
        return " ".join(pairs) + _origin(record) + rendered(_identity_pairs)

    def _continuation_lines(self, record: logging.LogRecord) -> list[str]:
        blocks = []
        if record.exc_info:
            blocks.append(self.formatException(record.exc_info))
        elif record.exc_text:
            blocks.append(record.exc_text)
        if record.stack_info:
            blocks.append(self.formatStack(record.stack_info))
        lines = "\n".join(blocks).split("\n") if blocks else []
        if len(lines) > MAX_TRACEBACK_LINES:
            kept = lines[-(MAX_TRACEBACK_LINES - 1) :]
            lines = [f"[{len(lines) - len(kept)} traceback lines omitted]", *kept]
        # An exception's text may quote a URL with its secrets (an HTTP client's "... for url: https://...?api_key=").
        return [neutralise(redact_text(text), MAX_TRACEBACK_LINE_CHARS) for text in lines]
