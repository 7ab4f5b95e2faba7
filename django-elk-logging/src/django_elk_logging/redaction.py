"""Secrets out of the URLs the logs record: secret query parameters' values and password-reset tokens in paths.

A query parameter is secret when its percent-decoded, case-folded name is in DEFAULT_PARAMETERS (or the
``LOG_REDACTED_PARAMETERS`` setting), or its last word is: the name split on everything but letters and where a
lower-case letter meets an upper-case one, so ``client_secret``, ``new_password1``, ``x-api-key`` and
``accessToken`` are, ``keyword`` and ``postcode`` are not. Its name is kept, its value becomes
REDACTED. A value that, decoded, is itself a URL holding a secret (``next=%2Freset%2FMQ%2F...``) is
redacted whole. In paths: the token of Django's password reset, django-allauth's reset and e-mail
confirmation keys, and the groups the ``LOG_REDACTED_PATHS`` regular expressions capture.

Linear in the text (one level of nested URL, never more) and never raises, whatever the text. The app
config (apps.py) applies the settings at start, so gunicorn's access logger in the same process uses
them. Standard library only.
"""

import re
import urllib.parse
from dataclasses import dataclass

REDACTED = "[REDACTED]"
# The list, and the one-time login tokens of django-sesame ("sesame") and CAS ("ticket"), one-time
# passwords ("otp") and nonces: the keys signals.py never logs a login's value of either.
DEFAULT_PARAMETERS = frozenset({
    "password", "passwd", "pwd", "secret", "token", "access_token", "refresh_token", "id_token", "code", "key",
    "api_key", "apikey", "signature", "sig", "auth", "session", "sessionid", "csrf", "csrfmiddlewaretoken",
    "sesame", "ticket", "otp", "nonce",
})
# Request headers whose value is a credential (for Sentry, and access-log formats that render headers).
_SECRET_HEADER = re.compile(r"token|secret|key|auth|session|csrf|signature|passw|pwd|cookie", re.I)
_WORD_BOUNDARY = re.compile(r"[\W\d_]+|(?<=[a-z])(?=[A-Z])")
_PARAMETER_SEPARATOR = re.compile(r"([&;])")
# A "/" Django decodes from %2F in PATH_INFO separates segments too (django/core/handlers/wsgi.py, get_path_info).
_SEGMENT_SEPARATOR = re.compile(r"(/|%2[fF])")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_AUTHORITY_END = re.compile(r"[/?#]")
_TEXT_TOKEN = re.compile(r"[^\s'\"<>`]+")
# The segment Django's PasswordResetConfirmView and allauth's PasswordResetFromKeyView redirect to once they
# have put the token in the session (django/contrib/auth/views.py, reset_url_token;
# allauth/account/views/_password_reset.py, reset_url_key): no secret.
_SESSION_TOKEN_SEGMENT = "set-password"
# The segments _token_segment looks after (percent-encoded, a path holds a "%").
_TOKEN_ROUTE_WORDS = ("reset", "confirm-email")
_ALLAUTH_RESET_KEY = re.compile(r"([0-9A-Za-z]+-)(.+)")
# A route's placeholder, as Sentry names a transaction (/reset/{uidb64}/{token}/) or Django writes it: no secret.
_PLACEHOLDER = re.compile(r"\{\w+\}|<(?:\w+:)?\w+>")


@dataclass(frozen=True)
class Redactor:
    parameters: frozenset = DEFAULT_PARAMETERS
    paths: tuple = ()  # compiled patterns; the groups they capture are redacted

    def is_secret_parameter(self, name: str) -> bool:
        decoded = urllib.parse.unquote_plus(name, errors="replace")
        if decoded.casefold() in self.parameters:
            return True
        words = [word for word in _WORD_BOUNDARY.split(decoded) if word]
        return bool(words) and words[-1].casefold() in self.parameters

    def query(self, query: str, nested: bool = True) -> str:
        """``query`` (no "?") with each secret parameter's value REDACTED; "&" and ";" separate parameters."""
        pieces = _PARAMETER_SEPARATOR.split(query)
        for index in range(0, len(pieces), 2):
            name, equals, value = pieces[index].partition("=")
            if not equals or not value:
                continue
            if self.is_secret_parameter(name) or nested and self._holds_secret(value):
                pieces[index] = f"{name}={REDACTED}"
        return "".join(pieces)

    def _holds_secret(self, value: str) -> bool:
        decoded = urllib.parse.unquote_plus(value, errors="replace")
        return ("/" in decoded or "?" in decoded) and self.url(decoded, nested=False) != decoded

    def path(self, path: str) -> str:
        """``path`` with the reset tokens and the configured patterns' groups REDACTED."""
        if not self.paths and "%" not in path and not any(word in path for word in _TOKEN_ROUTE_WORDS):
            return path  # most paths: no segment to look at
        parts = _SEGMENT_SEPARATOR.split(path)
        segments = parts[::2]
        names = [urllib.parse.unquote(segment, errors="replace") for segment in segments]
        for index in range(len(names)):
            redacted = self._token_segment(names, index)
            if redacted is not None:
                segments[index] = redacted
        parts[::2] = segments
        redacted_path = "".join(parts)
        for pattern in self.paths:
            redacted_path = pattern.sub(_redact_groups, redacted_path)
        return redacted_path

    @staticmethod
    def _token_segment(names: list, index: int) -> str | None:
        """The segment at ``index`` redacted, when it holds a token; else None."""
        name = names[index]
        if name in ("", _SESSION_TOKEN_SEGMENT) or _PLACEHOLDER.fullmatch(name):
            return None
        # allauth: password/reset/key/<uidb36>-<key>/ and confirm-email/<key>/ (allauth/account/urls.py).
        if index >= 3 and names[index - 3 : index] == ["password", "reset", "key"]:
            key = _ALLAUTH_RESET_KEY.fullmatch(name)
            if key is None:
                return None if name == "done" else REDACTED
            return None if key[2] == _SESSION_TOKEN_SEGMENT else key[1] + REDACTED
        if index >= 1 and names[index - 1] == "confirm-email":
            return REDACTED
        # Django: reset/<uidb64>/<token>/ (django/contrib/auth/urls.py).
        if index >= 2 and names[index - 2] == "reset" and names[index - 1]:
            return REDACTED
        return None

    def url(self, url: str, nested: bool = True) -> str:
        """A full URL (a Referer), or a request target in origin-form ("/path?query") or absolute-form."""
        scheme = _SCHEME.match(url)
        start = 0
        if scheme is not None:
            end = _AUTHORITY_END.search(url, scheme.end())
            start = end.start() if end is not None else len(url)
            authority = url[scheme.end() : start]
            user, at, host = authority.rpartition("@")
            if at and ":" in user:
                authority = f"{user.partition(':')[0]}:{REDACTED}@{host}"
            prefix = url[: scheme.end()] + authority
        else:
            prefix = ""
        rest, hash_sign, fragment = url[start:].partition("#")
        path, question_mark, query = rest.partition("?")
        redacted = prefix + self.path(path)
        if question_mark:
            redacted += "?" + self.query(query, nested)
        if hash_sign:
            redacted += "#" + self.query(fragment, nested)
        return redacted

    def request_line(self, line: str) -> str:
        """"METHOD target PROTOCOL" with the target redacted; a line without a space is a target."""
        method, space, rest = line.partition(" ")
        if not space:
            return self.url(line)
        target, space, protocol = rest.rpartition(" ")
        if not space:
            return f"{method} {self.url(rest)}"
        return f"{method} {self.url(target)} {protocol}"

    def text(self, text: str) -> str:
        """Free text (a message, a repr): each word that holds a URL, a path or a query, redacted."""
        return _TEXT_TOKEN.sub(self._text_token, text)

    def _text_token(self, match: re.Match) -> str:
        token = match.group()
        if "/" not in token and "?" not in token and "=" not in token:
            return token
        redacted = self.url(token)
        return redacted if "?" in token or "=" not in redacted else self.query(redacted)


def _redact_groups(match: re.Match) -> str:
    text, start = match.group(), match.start()
    pieces, position = [], 0
    for group in range(1, (match.re.groups or 0) + 1):
        group_start, group_end = match.span(group)
        if group_start < 0 or group_start - start < position:
            continue  # a group that did not take part, or nested in one already redacted
        pieces += [text[position : group_start - start], REDACTED]
        position = group_end - start
    return "".join(pieces) + text[position:]


def is_secret_header(name: str) -> bool:
    """A request header whose value is a credential: Authorization, Cookie, X-CSRFToken, X-Api-Key..."""
    return bool(_SECRET_HEADER.search(name))


def parameter_names(setting) -> frozenset:
    """The names a ``LOG_REDACTED_PARAMETERS`` value adds, case-folded; ValueError names what is wrong."""
    if isinstance(setting, (str, bytes)) or not isinstance(setting, (list, tuple, set, frozenset)):
        raise ValueError(f"must be a list of parameter names, not {setting!r}")
    bad = [name for name in setting if not isinstance(name, str) or not name.strip()]
    if bad:
        raise ValueError(f"must be a list of parameter names; {bad[0]!r} is not one")
    return frozenset(name.strip().casefold() for name in setting)


def path_patterns(setting) -> tuple:
    """The compiled ``LOG_REDACTED_PATHS`` patterns; ValueError names the first bad one."""
    if isinstance(setting, (str, bytes)) or not isinstance(setting, (list, tuple)):
        raise ValueError(f"must be a list of regular expressions, not {setting!r}")
    patterns = []
    for entry in setting:
        try:
            pattern = entry if isinstance(entry, re.Pattern) else re.compile(entry)
        except (re.error, TypeError) as error:
            raise ValueError(f"entry {entry!r} is not a regular expression: {error}") from None
        if not isinstance(pattern.pattern, str):
            raise ValueError(f"entry {entry!r} is a bytes pattern: paths are text")
        if pattern.groups == 0:
            raise ValueError(f"entry {entry!r} captures no group: put the secret part in parentheses")
        patterns.append(pattern)
    return tuple(patterns)


_redactor = Redactor()


def configure(parameters=(), paths=()) -> None:
    """Redact ``parameters`` besides the defaults, and the groups of ``paths``; ValueError when either is bad."""
    global _redactor
    _redactor = Redactor(DEFAULT_PARAMETERS | parameter_names(parameters), path_patterns(paths))


def redactor() -> Redactor:
    return _redactor


def redact_url(url: str) -> str:
    return _redactor.url(url)


def redact_text(text: str) -> str:
    return _redactor.text(text)


def redact_request_line(line: str) -> str:
    return _redactor.request_line(line)


def redact_query(query: str) -> str:
    return _redactor.query(query)
