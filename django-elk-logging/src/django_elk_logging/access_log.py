"""gunicorn access logging: escaped fields, no credentials, quiet health probes."""

import functools
import re

from gunicorn.glogging import Logger

from .escaping import neutralise
from .log_lines import new_record_id

MAX_ATOM_CHARS = 2048
# The request line is never cut: the parser needs the protocol at its end. gunicorn
# refuses lines over limit_request_line (set it to LIMIT_REQUEST_LINE) and escaping at most
# quadruples one, so this bound is never reached.
LIMIT_REQUEST_LINE = 4094
MAX_REQUEST_LINE_CHARS = 4 * LIMIT_REQUEST_LINE
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(duration_ns)s %({x-request-id}o)s %(record_id)s'
_ATOM_NAME = re.compile(r"%\(([^)]*)\)")


@functools.lru_cache(maxsize=8)
def rendered_atoms(log_format: str) -> frozenset[str]:
    """The atom names ``log_format`` renders, "{header}" names lowercased as gunicorn's SafeAtoms looks them up."""
    return frozenset(name.lower() if name.startswith("{") else name for name in _ATOM_NAME.findall(log_format))


class AccessLogger(Logger):
    """Escapes every request-controlled atom and never logs credentials.

    The format is Apache combined plus the duration in nanoseconds (ECS
    event.duration), the request id the app assigned (the response header,
    never the client's own) and a random record id for Logstash's fingerprint.
    """

    # Health probes run every few seconds; a successful one is not logged.
    skipped_paths: frozenset[str] = frozenset()

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # %(u)s would decode the user name out of an Authorization header.
        atoms["u"] = "-"
        atoms["duration_ns"] = str(atoms["D"] * 1000)  # D is in microseconds
        atoms["record_id"] = new_record_id()
        # Only the atoms the format renders are kept (and escaped): gunicorn adds one per
        # header and environ variable, about 50, and escaping them all cost more than the line.
        rendered = rendered_atoms(self.cfg.access_log_format)
        return {
            key: neutralise(value, MAX_REQUEST_LINE_CHARS if key == "r" else MAX_ATOM_CHARS, quoted=True)
            if isinstance(value, str)
            else value
            for key, value in atoms.items()
            if key in rendered
        }

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") in self.skipped_paths and str(resp.status).startswith("200"):
            return
        super().access(resp, req, environ, request_time)
