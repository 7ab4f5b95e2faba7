"""The Elasticsearch steps: kibana_system's password, roles, the native users, ILM policies, ingest
pipelines, index templates, and the records of what setup last did in Kibana."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch

from provision.assets import Asset
from provision.comparison import comparable_template, covers, with_fingerprint
from provision.errors import ConfigError, ProvisionError
from provision.output import report
from provision.settings import Settings
from provision.sync import poll_until_ready, sync
from provision.tls import certificate_refused, trusted_cas, unverified_certificate


@dataclass(frozen=True)
class NativeUser:
    """A user setup creates in the native realm, with one role of the same name (elasticsearch/roles/)."""

    name: str
    full_name: str
    password_variable: str


WRITER = NativeUser("logstash_writer", "Logstash writer for django-logs-*", "LOGSTASH_WRITER_PASSWORD")
# Kibana grants each rule's API key as the user who created or last updated it (kibana_steps.py).
ALERTING = NativeUser("django_alerting", "Owner of the Django alert rules", "ALERTING_PASSWORD")
NATIVE_USERS = (WRITER, ALERTING)
# Empty component templates whose _meta records what setup last did; nothing composes them. The last
# saved-objects import (KibanaSteps.sync_saved_objects) and the role the rules' API keys were granted
# with (rule_keys.py).
IMPORT_RECORD = "django-logs-setup-kibana-import"
RULE_KEYS_RECORD = "django-logs-setup-rule-keys"


def not_elasticsearch(url: str) -> str:
    return (
        f"ELASTICSEARCH_URL={url} answered without the X-Elastic-Product: Elasticsearch header, so it is not "
        "Elasticsearch: point ELASTICSEARCH_URL at the elasticsearch service (http://elasticsearch:9200)."
    )


def wrong_elastic_password(url: str) -> str:
    return (
        f"ELASTIC_PASSWORD is wrong: {url} answered 401 for user elastic. Elasticsearch keeps the password it "
        "was first started with (in the elasticsearch-data volume): put that one in .env, or reset it with "
        "bin/elasticsearch-reset-password inside the elasticsearch container."
    )


def _es_error_text(error: elasticsearch.ApiError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = body["error"]
        return f"HTTP {error.meta.status} {detail.get('type', 'error')}: {detail.get('reason', '')}".rstrip(": ")
    return f"HTTP {error.meta.status}: {str(body)[:500]}"


class ElasticsearchSteps:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = ",".join(settings.elasticsearch_urls)  # as ELASTICSEARCH_URL holds it, for the messages
        self.client = self._client("elastic", settings.elastic_password)

    def _client(self, username: str, password: str) -> Elasticsearch:
        urls = self.settings.elasticsearch_urls
        # The nodes share one scheme (settings.py); elastic_transport refuses TLS options on http
        # (_models.py NodeConfig).
        tls = {"ca_certs": trusted_cas(self.settings.tls_ca_file)} if urls[0].startswith("https:") else {}
        return Elasticsearch(
            list(urls),
            basic_auth=(username, password),
            request_timeout=self.settings.request_timeout_seconds,
            **tls,
            # A node that cannot be reached is marked dead and the call goes to the next one, so each node
            # is tried once (elastic_transport _transport.py perform_request, _node_pool.py NodePool).
            # Answers are not retried, nor timeouts. Setup's writes are PUTs of whole objects: resending
            # one to another node after a dropped connection is harmless.
            max_retries=len(urls) - 1,
            retry_on_status=(),
            retry_on_timeout=False,
        )

    def _certificate_refused(self, error: Exception) -> ConfigError | None:
        """A ConfigError naming each node whose certificate could not be verified, if that is the error.

        The client's error does not say which node failed, so each node is asked once more on its own."""
        problem = unverified_certificate(error)
        if problem is None:
            return None
        refused = []
        for node in self.client.transport.node_pool.all():
            try:
                node.perform_request("GET", "/", request_timeout=self.settings.request_timeout_seconds)
            except elasticsearch.TransportError as node_error:
                node_problem = unverified_certificate(node_error)
                if node_problem is not None:
                    refused.append((node.base_url, node_problem))
        ca_file = self.settings.tls_ca_file
        return ConfigError("\n".join(
            certificate_refused("ELASTICSEARCH_URL", url, found, ca_file) for url, found in refused or [(self.url, problem)]
        ))

    def failure(self, error: Exception, what: str, hint: str) -> ConfigError | ProvisionError:
        """The one mapping of a client error to a message naming the call and the fix."""
        refused = self._certificate_refused(error)
        if refused is not None:
            return refused
        if isinstance(error, elasticsearch.UnsupportedProductError):
            return ConfigError(not_elasticsearch(self.url))
        if isinstance(error, elasticsearch.AuthenticationException):
            return ConfigError(wrong_elastic_password(self.url))
        if isinstance(error, elasticsearch.ApiError):
            return ProvisionError(f"{what} failed: {_es_error_text(error)}. {hint}".rstrip())
        if isinstance(error, elasticsearch.ConnectionTimeout):
            return ProvisionError(
                f"{what} got no answer within {self.settings.request_timeout_seconds:g} s from {self.url}. "
                "Check `docker compose logs elasticsearch`; raise SETUP_REQUEST_TIMEOUT_SECONDS if it is only slow."
            )
        message = getattr(error, "message", error)
        return ProvisionError(f"{what} could not reach {self.url}: {message}. Check that Elasticsearch is running.")

    def call(self, what: str, hint: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        """Run one API call; every failure becomes a ConfigError or ProvisionError (see failure)."""
        try:
            return function(**kwargs)
        except (elasticsearch.ApiError, elasticsearch.TransportError) as error:
            raise self.failure(error, what, hint) from None

    def wait_until_ready(self) -> None:
        """GET _cluster/health?wait_for_status=yellow until it answers 200 or the time is up."""
        poll_until_ready(
            "elasticsearch",
            self.settings,
            self._health_attempt,
            lambda last: (
                f"Elasticsearch at {self.url} was not ready (cluster status yellow or green) within "
                f"{self.settings.timeout_seconds:g} s (SETUP_TIMEOUT_SECONDS); last answer: {last}. "
                "Check `docker compose logs elasticsearch`."
            ),
        )

    def _health_attempt(self, request_timeout: float) -> str | None:
        """None once the cluster is yellow or green, else why not."""
        # The server waits a little less than we do, so it answers 408 before our timeout fires.
        server_wait_ms = max(100, int(min(request_timeout - 0.5, 10) * 1000))
        try:
            response = self.client.options(request_timeout=request_timeout, ignore_status=408).cluster.health(
                wait_for_status="yellow", timeout=f"{server_wait_ms}ms"
            )
        except elasticsearch.ApiError as error:
            refused = isinstance(error, (elasticsearch.UnsupportedProductError, elasticsearch.AuthenticationException))
            # The client checks the product header on 2xx answers only.
            if not refused and error.meta.headers.get("x-elastic-product") != "Elasticsearch":
                raise ConfigError(not_elasticsearch(self.url)) from None
            if not refused and error.meta.status >= 500:
                return _es_error_text(error)
            raise self.failure(error, "GET _cluster/health", "") from None
        except elasticsearch.ConnectionTimeout:
            return f"no response within {request_timeout:.3g} s"
        except elasticsearch.TransportError as error:
            # A certificate that cannot be verified stays so: stop now rather than wait out the timeout.
            refused = self._certificate_refused(error)
            if refused is not None:
                raise refused from None
            return f"cannot connect ({error.message})"
        status = response.body.get("status") if isinstance(response.body, dict) else None
        if response.meta.status == 200:
            report("elasticsearch", f"ready (cluster status {status})")
            return None
        return f"HTTP {response.meta.status}, cluster status {status}"

    def authenticates(self, username: str, password: str) -> bool:
        """Whether `username` can log in with `password` (a read-only check: _authenticate)."""
        client = self._client(username, password)
        try:
            response = self.call(
                f"GET _security/_authenticate as {username}", "", client.options(ignore_status=401).security.authenticate
            )
        finally:
            client.close()
        return response.meta.status == 200 and response.body.get("username") == username

    def _found(self, what: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        """The body a GET answers, or None when it answers 404."""
        response = self.call(what, "", function, **kwargs)
        return response.body if response.meta.status == 200 else None

    def _put(self, what: str, hint: str, function: Callable[..., Any], **kwargs: Any) -> None:
        """A write whose answer setup does not need (sync then reports created or updated)."""
        self.call(what, hint, function, **kwargs)

    def sync_kibana_system_password(self) -> None:
        password = self.settings.passwords["KIBANA_SYSTEM_PASSWORD"]
        if self.authenticates("kibana_system", password):
            report("kibana_system password", "unchanged")
            return
        self.call(
            "PUT _security/user/kibana_system/_password", "Check that the user kibana_system exists.",
            self.client.security.change_password, username="kibana_system", password=password,
        )
        report("kibana_system password", "updated")

    def sync_role(self, role: Asset) -> None:
        desired = with_fingerprint(role.body, "metadata")
        getter = self.client.options(ignore_status=404).security.get_role
        sync(
            f"role {role.name}",
            lambda: (self._found(f"GET _security/role/{role.name}", getter, name=role.name) or {}).get(role.name),
            lambda current: covers(current, desired),
            lambda _: self._put(
                f"PUT _security/role/{role.name}", f"Fix {role.path}.", self.client.security.put_role,
                name=role.name, body=desired,
            ),
        )

    def sync_user(self, user: NativeUser) -> None:
        """The user with exactly its one role, enabled, logging in with its password from the settings."""
        password = self.settings.passwords[user.password_variable]
        wanted = {"roles": [user.name], "full_name": user.full_name, "enabled": True}
        getter = self.client.options(ignore_status=404).security.get_user
        sync(
            f"user {user.name}",
            lambda: (self._found(f"GET _security/user/{user.name}", getter, username=user.name) or {}).get(user.name),
            lambda current: covers(current, wanted) and self.authenticates(user.name, password),
            lambda _: self._put(
                f"PUT _security/user/{user.name}", "", self.client.security.put_user,
                username=user.name, password=password, **wanted,
            ),
        )

    def sync_ilm_policy(self, policy: Asset) -> None:
        desired = {"policy": with_fingerprint(policy.body["policy"], "_meta")}
        getter = self.client.options(ignore_status=404).ilm.get_lifecycle
        sync(
            f"ilm policy {policy.name}",
            lambda: (self._found(f"GET _ilm/policy/{policy.name}", getter, name=policy.name) or {}).get(policy.name, {}).get("policy"),
            lambda current: covers(current, desired["policy"]),
            lambda _: self._put(
                f"PUT _ilm/policy/{policy.name}", f"Fix {policy.path}.", self.client.ilm.put_lifecycle,
                name=policy.name, body=desired,
            ),
        )

    def sync_ingest_pipeline(self, pipeline: Asset) -> None:
        """GET answers the body as it was put (GetPipelineResponse.java: getConfigAsMap), so it compares as is."""
        desired = with_fingerprint(pipeline.body, "_meta")
        getter = self.client.options(ignore_status=404).ingest.get_pipeline
        sync(
            f"ingest pipeline {pipeline.name}",
            lambda: (self._found(f"GET _ingest/pipeline/{pipeline.name}", getter, id=pipeline.name) or {}).get(pipeline.name),
            lambda current: covers(current, desired),
            lambda _: self._put(
                f"PUT _ingest/pipeline/{pipeline.name}", f"Fix {pipeline.path}.", self.client.ingest.put_pipeline,
                id=pipeline.name, body=desired,
            ),
        )

    def sync_index_template(self, template: Asset) -> None:
        desired = with_fingerprint(template.body, "_meta")
        getter = self.client.options(ignore_status=404).indices.get_index_template

        def read() -> dict[str, Any] | None:
            found = self._found(f"GET _index_template/{template.name}", getter, name=template.name) or {}
            templates = found.get("index_templates", [])
            return templates[0]["index_template"] if templates else None

        sync(
            f"index template {template.name}",
            read,
            lambda current: covers(comparable_template(current), comparable_template(desired)),
            lambda _: self._put(
                f"PUT _index_template/{template.name}", f"Fix {template.path}.",
                self.client.indices.put_index_template, name=template.name, body=desired,
            ),
        )

    def record(self, name: str) -> dict[str, Any]:
        """The _meta put_record last stored under `name`, or {} when nothing was."""
        found = self._found(
            f"GET _component_template/{name}",
            self.client.options(ignore_status=404).cluster.get_component_template, name=name,
        ) or {}
        templates = found.get("component_templates", [])
        return templates[0]["component_template"].get("_meta", {}) if templates else {}

    def put_record(self, name: str, what: str, record: dict[str, str]) -> None:
        """Store `record` as the _meta of the empty component template `name`; `what` says what it records."""
        meta = {"description": f"Written by the setup service: {what}.", **record}
        self.call(
            f"PUT _component_template/{name}", "",
            self.client.cluster.put_component_template, name=name, template={}, meta=meta,
        )

    def close(self) -> None:
        self.client.close()
