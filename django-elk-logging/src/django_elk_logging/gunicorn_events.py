"""gunicorn's own refusals and worker timeouts as security events, for security.log.

gunicorn answers some requests itself, before the application sees them (a request line or header it
cannot parse, or over its limits: 400, 414, 431...), and its arbiter kills a worker that stayed silent
longer than ``timeout`` (a stuck request, or a client sending its headers slowly to a sync worker). It
tells only its error log (stderr). SecurityEventsLogger, a gunicorn Logger, also logs them as the events
``request_refused`` and ``worker_timeout`` (security_events.EVENTS) to SECURITY_LOGGER, which
gunicorn.log_config_dict sends to security.log.

gunicorn calls no hook for either: each is recognised by the exact call it makes to its Logger (cited
below, gunicorn 27.0.1). A refusal's status and reason come from the exception being handled, only the
peer's address from the message text; a timeout's pid is the call's argument. The package's tests run
real gunicorn and fail when it changes these calls or the statuses it answers.
"""

import logging
import sys
from ssl import SSLError

from gunicorn.glogging import Logger
from gunicorn.http import errors

from .escaping import truncation_marker
from .redaction import redactor
from .security_events import log_security_event

# A child of "security", so its records are security records (logging_settings.in_security_loggers).
SECURITY_LOGGER = "security.gunicorn"
# gunicorn's reason holds the refused request line or header (as a Python repr): its URL's secrets are redacted
# (redaction.py), and it is cut here, before the line's own escaping, so a refusal stays one short line (a
# request line may be 8190 bytes).
MAX_REASON_CHARS = 512

# gunicorn 27.0.1, workers/base.py Worker.handle_error, called inside the worker's ``except`` around the
# request parser (workers/sync.py, gthread.py, base_async.py: SyncWorker.handle...):
#     msg = "Invalid request from ip={ip}: {error}"
#     self.log.warning(msg.format(ip=addr[0], error=str(exc)))
# logged only for the errors it counts as the client's; addr[0] is the peer ("" on a unix socket).
_REFUSAL_PREFIX = "Invalid request from ip="
# The status handle_error then answers (util.write_error), by the exception's class; "400 Bad Request" for
# every other client error. Its reason stays "Bad Request" with 501 and 500. No subclass of one is another.
_REFUSAL_STATUSES = (
    (errors.LimitRequestLine, "414 URI Too Long"),
    (errors.LimitRequestHeaders, "431 Request Header Fields Too Large"),
    (errors.ExpectationFailed, "417 Expectation Failed"),
    (errors.UnsupportedTransferCoding, "501 Bad Request"),
    (errors.ConfigurationProblem, "500 Bad Request"),
    (errors.ForbiddenProxyRequest, "403 Forbidden"),
    (SSLError, "403 Forbidden"),
)
# gunicorn 27.0.1, arbiter.py Arbiter.murder_workers, once per silent worker, before its SIGABRT:
#     self.log.critical("WORKER TIMEOUT (pid:%s)", pid)
_WORKER_TIMEOUT = "WORKER TIMEOUT (pid:%s)"

_security_log = logging.getLogger(SECURITY_LOGGER)


def refused_request(message: object, error: BaseException | None) -> tuple[str, str] | None:
    """(the peer's address, gunicorn's reason) when ``message`` is gunicorn's warning that it refused the request
    whose parsing raised ``error``; None for any other message. The address is what lies between gunicorn's
    prefix and its known suffix, so the attacker's text in the reason cannot move it."""
    if error is None or not isinstance(message, str) or not message.startswith(_REFUSAL_PREFIX):
        return None
    reason = str(error)
    suffix = f": {reason}"
    if not message.endswith(suffix):
        return None
    return message[len(_REFUSAL_PREFIX) : len(message) - len(suffix)], reason


def refusal_status(error: BaseException) -> str:
    """The status line gunicorn answers to a request whose parsing raised ``error`` (one of its client errors)."""
    for error_class, status in _REFUSAL_STATUSES:
        if isinstance(error, error_class):
            return status
    return "400 Bad Request"


def _bounded(text: str) -> str:
    if len(text) <= MAX_REASON_CHARS:
        return text
    return text[:MAX_REASON_CHARS] + truncation_marker(len(text) - MAX_REASON_CHARS)


class SecurityEventsLogger(Logger):
    """A gunicorn Logger that also logs gunicorn's refusals and worker timeouts as security events."""

    def warning(self, msg, *args, **kwargs):
        super().warning(msg, *args, **kwargs)
        # handle_error runs inside the except block of the parse error: sys.exc_info() (this thread's) holds it.
        error = sys.exc_info()[1]
        refusal = refused_request(msg, error) if not args else None
        if refusal is not None:
            peer, reason = refusal
            log_security_event(_security_log, "request_refused", "Refused by gunicorn with %s: %s",
                               refusal_status(error), _bounded(redactor().text(reason)), client_ip=peer)

    def critical(self, msg, *args, **kwargs):
        super().critical(msg, *args, **kwargs)
        if msg == _WORKER_TIMEOUT and len(args) == 1:
            log_security_event(_security_log, "worker_timeout",
                               "Worker pid=%s timed out (silent for over %s s) and is killed by gunicorn",
                               args[0], self.cfg.timeout)
