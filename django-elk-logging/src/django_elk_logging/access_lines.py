"""The access line, one per HTTP request, written by gunicorn (gunicorn.py) or by the ASGI middleware (asgi.py).

Apache combined (gunicorn's default) plus the duration in nanoseconds (ECS event.duration),
the request id the app assigned (the response header, never the client's own) and a random
record id for Logstash's fingerprint; parsed by the pipeline's access grok
(logstash/pipeline/django.conf). Secret query parameters and reset tokens in the request line and the
Referer are redacted (redaction.py), "?" and "&" kept, so the grok still finds url.path and url.query.
Standard library only.
"""

import functools
import re

from .escaping import neutralise, one_word
from .redaction import REDACTED, is_secret_header, redact_query, redact_request_line, redact_url

# gunicorn's atom syntax; asgi.py renders it with the same atoms, so both servers write one format.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(duration_ns)s %({x-request-id}o)s %(record_id)s'
REQUEST_ID_ATOM = "{x-request-id}o"
# Fields outside quotes that may hold text the client or the app chose (the address a proxy header
# gave the server, the app's response header): a space there would shift every field after it.
UNQUOTED_TEXT_ATOMS = frozenset({"h", REQUEST_ID_ATOM})
MAX_ATOM_CHARS = 2048
_ATOM_NAME = re.compile(r"%\(([^)]*)\)")
# The atoms that may carry a URL (gunicorn/glogging.py, Logger.atoms), each redacted before it is escaped;
# a format of the project's may render the last ones.
_URL_ATOMS = {
    "r": redact_request_line, "f": redact_url, "{referer}i": redact_url, "U": redact_url, "q": redact_query,
    "{raw_uri}e": redact_url, "{path_info}e": redact_url, "{query_string}e": redact_query,
}


@functools.lru_cache(maxsize=8)
def rendered_atoms(log_format: str) -> frozenset[str]:
    """The atom names ``log_format`` renders, "{header}" names lowercased as gunicorn's SafeAtoms looks them up."""
    return frozenset(name.lower() if name.startswith("{") else name for name in _ATOM_NAME.findall(log_format))


def escaped_atoms(atoms: dict, rendered: frozenset[str], max_request_line_chars: int) -> dict:
    """Only the ``rendered`` atoms, each text redacted (a URL's secrets, a credential header), escaped for a
    quoted field (spaces too, in UNQUOTED_TEXT_ATOMS) and bounded; an empty one of UNQUOTED_TEXT_ATOMS
    (gunicorn's client on a Unix socket) is "-".

    The request line (``r``) is bounded by the server's own limit, so it is cut only past it: the
    parser needs the protocol at its end.
    """
    escaped = {}
    for key, value in atoms.items():
        if key not in rendered:
            continue
        if isinstance(value, str):
            if key in _URL_ATOMS:
                value = _URL_ATOMS[key](value)
            elif key.endswith("}i") and is_secret_header(key):
                value = REDACTED
            value = neutralise(value, max_request_line_chars if key == "r" else MAX_ATOM_CHARS, quoted=True)
            if key in UNQUOTED_TEXT_ATOMS:
                value = one_word(value) or "-"
        escaped[key] = value
    return escaped
