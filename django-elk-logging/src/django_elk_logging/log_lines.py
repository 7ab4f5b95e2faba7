"""The log-line contract: the formatter and the file handler behind LOGGING and gunicorn's access log.

Line contract (read by the stack's Logstash pipeline, logstash/pipeline/django.conf):

    LEVEL YYYY-MM-DD HH:MM:SS,mmm module [key=value ...] message
    <TAB>traceback line
    <TAB>...

The bracketed context always starts with ``request_id`` and ``record_id`` (random,
per record: Logstash fingerprints it, so a replay is not indexed twice and
two identical lines are never merged). Security records add
the fields of CONTEXT_FIELDS that apply (``event``, ``user``, ``client_ip``, ...). Everything
that can hold untrusted text is escaped (see escaping.py), so a record is one
line plus TAB-indented continuation lines and no input can forge a record.
"""

import copy
import errno
import fcntl
import logging
import logging.handlers
import os
import re
import sys
import time
import weakref

from .escaping import neutralise, one_word
from .redaction import redact_url

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
_BARE_VALUE = re.compile(r"[A-Za-z0-9._:/@+-]+")
# django.utils.log.log_response and log_message escape their str arguments with
# unicode_escape (Django 5.2.2, CVE-2025-48432) before they call the logger.
_DJANGO_LOG_MODULE = "django.utils.log"
_DJANGO_ESCAPING_FUNCTIONS = frozenset({"log_response", "log_message"})
# What Python names a level that has no name; the pipeline reads it with its space (patterns/django, DJANGO_LEVEL).
_UNNAMED_LEVEL = re.compile(r"Level -?[0-9]+")
# The mode of a log file AppendOnlyFileHandler creates: the owner writes, the group (the log shipper's)
# reads, others nothing.
FILE_PERMISSIONS = 0o640
# Closes a line that a cut write left without its newline, before the next record.
CUT_MARKER = "...[record cut short by a failed write]"


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
    """The path of Django's "Not Found: %s", "Forbidden (%s): %s"... (request.path, django/core/handlers/exception.py
    and base.py), redacted."""
    return redact_url(text) if text.startswith("/") else text


def original_message(record: logging.LogRecord) -> str:
    """``record.getMessage()`` with the arguments Django escaped decoded back to what it was given, paths redacted.

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
        return " ".join(pairs)

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
        return [neutralise(text, MAX_TRACEBACK_LINE_CHARS) for text in lines]


def _describe(error: OSError) -> str:
    if error.errno in errno.errorcode:
        return f"{error.strerror} ({errno.errorcode[error.errno]})"
    return str(error)


class AppendOnlyFileHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler that writes each record with one write(2) on an O_APPEND file.

    Several gunicorn workers append to the same file: a single append is never
    interleaved with another process's, whatever the record's size, and the
    file is reopened when logrotate renames it.

    A write that fails, or is cut short by a full disk, loses its record. The
    first loss is reported on stderr with its cause, the next ones only counted,
    and the first write that works again reports how many were lost. A record
    never continues a line a cut write left open, whichever process cut it: unless
    the file ends where this handler's last whole record did, the handler reads its
    last byte and first closes that line with CUT_MARKER. Each append, with that
    check, holds an exclusive flock(2) of the file, on an open file of this process's
    own: a forked child reopens the file before its first append.

    A file the handler creates gets exactly ``permissions`` (FILE_PERMISSIONS: owner read-write, group
    read), whatever the process's umask: the log shipper reads it as a member of the file's group, and a
    umask of 077 would otherwise lock it out of every file created after a rotation, unnoticed until
    then. A file that already exists keeps its mode.
    """

    def __init__(self, filename, mode="a+", encoding=None, delay=False, errors=None, permissions=FILE_PERMISSIONS):
        # Set before the parent's __init__, which opens the file unless delay.
        self.permissions = permissions
        # "a+" (O_APPEND | O_RDWR): the last byte must be readable.
        super().__init__(filename, mode, encoding, delay, errors)
        self.failure: str | None = None
        self.lost_records = 0
        # The size of the open file just after this handler's last whole record; -1: unknown.
        self._own_end = -1
        # Set in a forked child: the file was opened by the parent (_after_fork_in_child).
        self._inherited = False
        _HANDLERS.add(self)

    def _open(self):
        # FileHandler._open (logging/__init__.py), with an opener that sets the mode of a file it creates;
        # WatchedFileHandler reopens through it after a rename (logging/handlers.py, reopenIfNeeded).
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=self._opener)

    def _opener(self, path: str, flags: int) -> int:
        """open(2) for open(): a file this call creates gets exactly ``permissions``."""
        if not flags & os.O_CREAT:
            return os.open(path, flags)
        while True:
            try:
                descriptor = os.open(path, flags | os.O_EXCL, self.permissions)
            except FileExistsError:
                try:
                    return os.open(path, flags & ~os.O_CREAT)
                except FileNotFoundError:  # removed between the two calls: create it after all
                    continue
            try:
                os.fchmod(descriptor, self.permissions)  # the bits the umask took off
            except OSError:
                os.close(descriptor)
                raise
            return descriptor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + self.terminator).encode("utf-8", "backslashreplace")
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        try:
            self._append(data)
        except OSError as error:
            self._lost(_describe(error))
            return
        if self.failure is not None:
            self._report(f"{self.baseFilename} is writable again; {self.lost_records} record(s) were lost")
            self.failure, self.lost_records = None, 0

    def _append(self, data: bytes) -> None:
        size = self._lock_current_file()
        descriptor = self.stream.fileno()
        try:
            # A file that ends where our last whole record did ends with its newline: no pread(2).
            if size and size != self._own_end and os.pread(descriptor, 1, size - 1) != b"\n":
                data = CUT_MARKER.encode() + b"\n" + data
            self._own_end = -1
            written = os.write(descriptor, data)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        if written < len(data):
            raise OSError(f"only {written} of {len(data)} bytes written: the disk is full or a size limit was reached")
        self._own_end = size + written

    def _lock_current_file(self) -> int:
        """Lock the file now at baseFilename (reopened after a rename or a failed open); return its size.

        Linux raises a file's size page by page while a write(2) runs, so another worker's
        record can be seen half written. Every handler appends under this lock: the size and
        last byte are read only between two whole appends. One stat(2) of the path, under the
        lock, both notices a rename and gives the size of the file we hold, if it is still there.
        """
        if self._inherited and self.stream is not None:
            # A forked child shares the parent's open file description, and flock(2) does not exclude
            # holders of one description from each other: the child opens its own.
            self.stream.close()
            self.stream = None
        self._inherited = False
        if self.stream is not None:
            descriptor = self.stream.fileno()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                status = os.stat(self.baseFilename)
            except FileNotFoundError:
                status = None
            except OSError:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                raise
            if status is not None and status.st_dev == self.dev and status.st_ino == self.ino:
                return status.st_size
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            self.stream.close()
            self.stream = None
        self._own_end = -1
        self.stream = self._open()
        self._statstream()
        descriptor = self.stream.fileno()
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            return os.fstat(descriptor).st_size
        except OSError:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            raise

    def _lost(self, cause: str) -> None:
        self.lost_records += 1
        if self.failure is None:
            self.failure = cause
            self._report(f"cannot write {self.baseFilename}: {cause}; records are lost (and counted) until it works again")

    @staticmethod
    def _report(text: str) -> None:
        try:
            sys.stderr.write(f"logging (pid {os.getpid()}): {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # stderr closed or broken: nowhere left to report
            pass


# Every AppendOnlyFileHandler, so a forked child (a gunicorn worker forked from an arbiter that opened
# the file, or preload_app) reopens each file before it first locks it.
_HANDLERS: "weakref.WeakSet[AppendOnlyFileHandler]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for handler in list(_HANDLERS):
        handler._inherited = True


os.register_at_fork(after_in_child=_after_fork_in_child)
