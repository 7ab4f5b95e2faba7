"""The access line, one per HTTP request, written by gunicorn (gunicorn.py) or by the ASGI middleware (asgi.py).

Apache combined (gunicorn's default) plus the duration in nanoseconds (ECS event.duration),
the request id the app assigned (the response header, never the client's own), a random
record id for Logstash's fingerprint, the peer (the address that connected), then the worker's pid and
who wrote the line (identity.py: host, service, service version, environment; "-" when unknown); parsed by the
pipeline's access grok (logstash/pipeline/django.conf). Its first field is the client the app
resolved through the trusted proxies (request_context.py), the peer when the app did not run.
Secret query parameters and reset tokens in the request line and the Referer are redacted
(redaction.py), "?" and "&" kept, so the grok still finds url.path and url.query.
Standard library only.
"""

import functools
import os
import re

from .denylist import Network, network_holding, parse_address, parse_networks
from .escaping import neutralise, one_word
from .identity import Identity, rendered
from .redaction import REDACTED, is_secret_header, redact_query, redact_request_line, redact_url

# gunicorn's atom syntax; asgi.py renders it with the same atoms, so both servers write one format.
# The fields after the peer came later (issue 20): a line without them is a prefix of the line with them. gunicorn's
# own %(p)s is "<pid>" (gunicorn/glogging.py, Logger.atoms), hence a plain pid of our own.
PID_ATOM = "pid"
ACCESS_LOG_FORMAT = ('%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(duration_ns)s %({x-request-id}o)s '
                     '%(record_id)s %(peer_ip)s %(pid)s %(host)s %(service)s %(service_version)s %(environment)s')
REQUEST_ID_ATOM = "{x-request-id}o"
PEER_ATOM = "peer_ip"
# Fields outside quotes that may hold text the client or the app chose (the address a proxy header
# gave the server, the app's response header): a space there would shift every field after it.
UNQUOTED_TEXT_ATOMS = frozenset({"h", REQUEST_ID_ATOM, PEER_ATOM})
# Where the app leaves the client it resolved for the server's access line: a key of the WSGI environ or
# the ASGI scope (request_context.py). No request header can name it: those keys start with HTTP_.
CLIENT_ADDRESS_KEY = "django_elk_logging.client_ip"
# Health probes come from the server's own host (a container's HEALTHCHECK) unless configured otherwise.
DEFAULT_PROBE_NETWORKS = ("127.0.0.0/8", "::1")
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


def _identity_words(current: Identity) -> dict:
    return {atom: one_word(neutralise(value, MAX_ATOM_CHARS)) if value else "-" for atom, value in current._asdict().items()}


def identity_atoms() -> dict:
    """The pid of the process writing the line, and identity.identity() as words: escaped, "-" when unknown."""
    return {PID_ATOM: str(os.getpid()), **rendered(_identity_words)}


def parse_probe_networks(entries) -> tuple[Network, ...]:
    """``entries`` (addresses, networks) as networks; ValueError names a bad one."""
    try:
        return parse_networks(entries)
    except ValueError as error:
        raise ValueError(f"probe networks: {error}") from None


def is_quiet_probe(path: str, answered_200: bool, peer: str, skipped_paths: frozenset[str],
                   probe_from: tuple[Network, ...]) -> bool:
    """A successful answer on a health-probe path to a prober's address: not logged. The same path asked
    from anywhere else is logged, so nobody can hide requests behind it."""
    if not answered_200 or path not in skipped_paths:
        return False
    ip = parse_address(peer)
    return ip is not None and network_holding(ip, probe_from) is not None
