"""The access line, one per HTTP request, written by gunicorn (gunicorn.py) or by the ASGI middleware (asgi.py).

Apache combined (gunicorn's default) plus the duration in nanoseconds (ECS event.duration),
the request id the app assigned (the response header, never the client's own) and a random
record id for Logstash's fingerprint; parsed by the pipeline's access grok
(logstash/pipeline/django.conf). Standard library only.
"""

import functools
import re

from .escaping import neutralise

# gunicorn's atom syntax; asgi.py renders it with the same atoms, so both servers write one format.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(duration_ns)s %({x-request-id}o)s %(record_id)s'
REQUEST_ID_ATOM = "{x-request-id}o"
MAX_ATOM_CHARS = 2048
_ATOM_NAME = re.compile(r"%\(([^)]*)\)")


@functools.lru_cache(maxsize=8)
def rendered_atoms(log_format: str) -> frozenset[str]:
    """The atom names ``log_format`` renders, "{header}" names lowercased as gunicorn's SafeAtoms looks them up."""
    return frozenset(name.lower() if name.startswith("{") else name for name in _ATOM_NAME.findall(log_format))


def escaped_atoms(atoms: dict, rendered: frozenset[str], max_request_line_chars: int) -> dict:
    """Only the ``rendered`` atoms, each text escaped for a quoted field and bounded.

    The request line (``r``) is bounded by the server's own limit, so it is never cut: the
    parser needs the protocol at its end.
    """
    return {
        key: neutralise(value, max_request_line_chars if key == "r" else MAX_ATOM_CHARS, quoted=True)
        if isinstance(value, str)
        else value
        for key, value in atoms.items()
        if key in rendered
    }
