"""A small JSON client for Kibana's HTTP API (basic auth as one user, kbn-xsrf on every call), on urllib3."""

from __future__ import annotations

import json
from typing import Any

import urllib3

from provision.errors import ConfigError, ProvisionError
from provision.settings import Settings
from provision.tls import certificate_refused, trusted_cas, unverified_certificate


class KibanaUnreachable(Exception):
    pass


class Kibana:
    def __init__(self, settings: Settings, username: str = "elastic", password_variable: str = "ELASTIC_PASSWORD") -> None:
        """Every call authenticates as `username` with the password the setting `password_variable` holds."""
        self.url = settings.kibana_url
        self.request_timeout = settings.request_timeout_seconds
        self.username, self.password_variable = username, password_variable
        self.headers = {
            **urllib3.make_headers(basic_auth=f"{username}:{settings.passwords[password_variable]}"),
            "kbn-xsrf": "setup",
            "Accept": "application/json",
        }
        self.ca_file = settings.tls_ca_file
        # A PoolManager talks to Kibana directly: it reads no proxy variables from the environment.
        # No retries: the readiness loop retries, and a failed write must not be sent twice.
        # On https it verifies Kibana's certificate and hostname (provision/tls.py); for http URLs
        # urllib3 drops these options (poolmanager.py _new_pool).
        self.pool = urllib3.PoolManager(retries=False, cert_reqs="CERT_REQUIRED", ca_certs=trusted_cas(self.ca_file))

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        headers = dict(self.headers)
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        seconds = timeout or self.request_timeout
        try:
            # Like a socket timeout: the limit for connecting and for each read, not for the whole call.
            response = self.pool.request(
                method, self.url + path, body=data, headers=headers, redirect=False,
                timeout=urllib3.Timeout(connect=seconds, read=seconds),
            )
        except urllib3.exceptions.NewConnectionError as error:  # a subclass of ConnectTimeoutError, yet refused
            raise KibanaUnreachable(f"cannot connect ({_reason(error)})") from None
        except urllib3.exceptions.TimeoutError:
            raise KibanaUnreachable(f"no response within {seconds:.3g} s") from None
        except urllib3.exceptions.SSLError as error:
            problem = unverified_certificate(error)
            if problem is not None:  # it stays unverifiable: no point waiting for it
                raise ConfigError(certificate_refused("KIBANA_URL", self.url, problem, self.ca_file)) from None
            raise KibanaUnreachable(f"cannot connect ({_reason(error)})") from None
        except urllib3.exceptions.HTTPError as error:
            raise KibanaUnreachable(f"cannot connect ({_reason(error)})") from None
        finally:
            # A fresh connection per call, as urllib made: a pooled one that Kibana closed while
            # idle would fail a write, and nothing retries.
            self.pool.clear()
        if 300 <= response.status < 400:
            raise ConfigError(
                f"KIBANA_URL={self.url} answered {method} {path} with HTTP {response.status}, a redirect to "
                f"{response.headers.get('Location', '(no Location)')!r}: point KIBANA_URL at Kibana itself "
                "(including its server.basePath, if it has one)."
            )
        if response.status == 401:
            raise ConfigError(
                f"{self.password_variable} was refused by Kibana at {self.url} ({method} {path} answered 401 "
                f"for user {self.username}). Kibana checks it against Elasticsearch: fix {self.password_variable} in .env."
            )
        text = response.data.decode("utf-8", errors="replace")
        ctype = response.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() == "application/json":
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                pass
        return response.status, text

    def call(
        self, method: str, path: str, hint: str, ok: tuple[int, ...] = (200,), refused_hint: str = "", **kwargs: Any
    ) -> tuple[int, Any]:
        """One call whose failure stops the setup with a message naming it and the fix: ``refused_hint``,
        if given, when Kibana refused the call to this user, else ``hint``."""
        try:
            status, body = self.request(method, path, **kwargs)
        except KibanaUnreachable as error:
            raise ProvisionError(f"{method} {path} on {self.url} failed: {error}. Check `docker compose logs kibana`.") from None
        if status not in ok:
            detail = body.get("message", body) if isinstance(body, dict) else body
            if refused_hint and is_authorization_refusal(status, detail):
                hint = refused_hint
            raise ProvisionError(f"{method} {path} failed: HTTP {status}: {str(detail)[:1000]}. {hint}".rstrip())
        return status, body

    def close(self) -> None:
        self.pool.clear()


def is_authorization_refusal(status: int, message: Any) -> bool:
    """Whether Kibana refused the call for the caller's privileges: the 403s of
    alerting/server/authorization/alerting_authorization.ts ('Unauthorized by "<consumer>" to <operation>
    "<rule type>" rule') and actions/server/authorization/actions_authorization.ts ('Unauthorized to
    <operation> actions'), both Boom.forbidden."""
    return status == 403 and str(message).startswith("Unauthorized")


def _reason(error: urllib3.exceptions.HTTPError) -> str:
    """The underlying error's own words ("[Errno 111] Connection refused", "Remote end closed
    connection without response"), as urllib's URLError gave them."""
    if isinstance(error, urllib3.exceptions.ProtocolError) and len(error.args) > 1:
        cause = error.args[1]  # ProtocolError("Connection aborted.", <the error>)
    else:
        cause = error.__context__ or error.__cause__
    if isinstance(cause, BaseException) and str(cause):
        return str(cause)
    return str(error)
