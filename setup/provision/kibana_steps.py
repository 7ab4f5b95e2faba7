"""The Kibana steps: wait until it is available, import the saved objects, create the connectors and rules."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

from provision.assets import Asset, SavedObjects
from provision.comparison import covers, fingerprint
from provision.elasticsearch_steps import ALERTING, IMPORT_RECORD, ElasticsearchSteps
from provision.errors import ProvisionError
from provision.kibana_client import Kibana, KibanaUnreachable
from provision.output import report
from provision.rule_keys import refused_rule_hint, rule_path, rule_step
from provision.settings import Settings
from provision.sync import poll_until_ready, sync

# The core services whose status decides readiness (status.core in GET /api/status).
CORE_SERVICES = ("elasticsearch", "savedObjects")
# PUT /api/alerting/rule/<id> accepts only these (rule_type_id, consumer and enabled are refused).
RULE_UPDATE_KEYS = (
    "name", "tags", "schedule", "throttle", "params", "actions", "notify_when", "alert_delay", "flapping", "artifacts",
)
# The name the import is uploaded under when several files are joined into one upload.
JOINED_UPLOAD_NAME = "saved_objects.ndjson"


class KibanaSteps:
    def __init__(self, settings: Settings, es: ElasticsearchSteps, rules_role: Asset) -> None:
        """``rules_role`` is django_alerting's role file, named when Kibana refuses it a rule call."""
        self.settings = settings
        self.kibana = Kibana(settings)
        # The rules are created and updated as django_alerting: Kibana grants a rule's API key on behalf of
        # whoever creates or updates it (alerting/server/rules_client/lib/create_new_api_key_set.ts, called
        # by create_rule.ts and update_rule.ts), and the rule's queries and its connectors' writes run with
        # that key. As elastic they would run with the superuser's privileges.
        self.rules_kibana = Kibana(settings, ALERTING.name, ALERTING.password_variable)
        self.rules_role = rules_role
        self.es = es  # keeps the record of the last saved-objects import

    def wait_until_available(self) -> None:
        """GET /api/status until Kibana's core services (Elasticsearch, saved objects) are available.

        Like the compose healthcheck, this ignores plugins: Kibana answers 200 with overall level
        "degraded" when only a plugin is degraded, and still serves every API setup calls
        (src/core/packages/status/server-internal/src/routes/status.ts: 503 only when core is
        unavailable; status.overall also sums up every plugin).
        """
        poll_until_ready(
            "kibana",
            self.settings,
            self._status_attempt,
            lambda last: (
                f"Kibana at {self.kibana.url} was not available within {self.settings.timeout_seconds:g} s "
                f"(SETUP_TIMEOUT_SECONDS); last answer: {last}. Check `docker compose logs kibana` "
                "(a wrong KIBANA_SYSTEM_PASSWORD or a missing encryption key keep it from starting)."
            ),
        )

    def _status_attempt(self, request_timeout: float) -> str | None:
        """None once Kibana's core services are available, else why not."""
        try:
            status, body = self.kibana.request("GET", "/api/status", timeout=request_timeout)
        except KibanaUnreachable as error:
            return str(error)
        info = body.get("status", {}) if isinstance(body, dict) else {}
        overall = info.get("overall", {}) if isinstance(info, dict) else {}
        core = info.get("core") if isinstance(info, dict) else None
        if isinstance(core, dict):
            levels = {name: (core.get(name) or {}).get("level") for name in CORE_SERVICES}
            if status == 200 and all(level == "available" for level in levels.values()):
                detail = "" if overall.get("level") == "available" else f" (overall level {overall.get('level')}: {overall.get('summary')})"
                report("kibana", f"available{detail}")
                return None
            reason = f"HTTP {status}, core " + ", ".join(f"{name} {level or 'unknown'}" for name, level in levels.items())
        else:
            # The redacted answer has only the core level. Preboot gives it with 503 whatever the
            # credentials; past preboot /api/status (authRequired 'optional', hapi mode 'try' in
            # http_server.ts) gives it to every unauthenticated request, wrong credentials included.
            # So a redacted 200 means Kibana refused ours: an API that requires authentication (the
            # features plugin's GET /api/features) then answers 401, and request() raises ConfigError.
            reason = f"HTTP {status}, overall level {overall.get('level') or 'unknown'}"
            if status == 200:
                try:
                    check, _ = self.kibana.request("GET", "/api/features", timeout=request_timeout)
                except KibanaUnreachable as error:
                    check = str(error)
                reason += f", redacted though authenticated (GET /api/features: {check})"
        # Before its status service is up Kibana answers {"message": "Kibana server is not ready yet"}.
        detail = overall.get("summary") or (body.get("message") if isinstance(body, dict) else str(body).strip())
        if detail:
            reason += f" ({str(detail)[:200]})"
        return reason

    def _stored_objects(self, objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]] | None:
        """The listed objects as Kibana holds them, or None when at least one does not exist yet."""
        wanted = [{"type": item["type"], "id": item["id"]} for item in objects]
        status, body = self.kibana.call(
            "POST", "/api/saved_objects/_export", "", ok=(200, 400),
            json_body={"objects": wanted, "includeReferencesDeep": False, "excludeExportDetails": True},
        )
        if status == 400:  # "Error fetching objects to export": some are missing (or of a type the import will name)
            return None
        stored = {}
        for line in str(body).splitlines():
            if line.strip():
                item = json.loads(line)
                stored[(item["type"], item["id"])] = item
        return stored

    def sync_saved_objects(self, saved: SavedObjects) -> None:
        """Import the files unless Kibana still holds exactly what the last import of them left.

        Kibana migrates objects on import (a saved search is rewritten into `tabs`, with a random tab
        id), so what it stores never equals the file and cannot be predicted from it. After an import
        setup therefore records two fingerprints: the files' and the export of what Kibana stored.
        A rerun is "unchanged" when both still match: neither the files nor the objects in Kibana
        changed since. An edit in Kibana, a changed file or a Kibana upgrade that migrates the stored
        objects each cause one new import, after which the record matches again.
        """
        objects = saved.objects
        names = ", ".join(path.name for path in saved.paths)
        wanted = {"file_fingerprint": fingerprint(objects)}

        def read() -> tuple[dict[tuple[str, str], dict[str, Any]] | None, dict[str, Any]]:
            return self._stored_objects(objects), self.es.record(IMPORT_RECORD)

        def matches(current: tuple[dict[tuple[str, str], dict[str, Any]] | None, dict[str, Any]]) -> bool:
            stored, record = current
            expected = {**wanted, "kibana_fingerprint": _stored_fingerprint(stored)} if stored is not None else None
            return expected is not None and all(record.get(key) == value for key, value in expected.items())

        def write(current: tuple[dict[tuple[str, str], dict[str, Any]] | None, dict[str, Any]]) -> str:
            stored, _ = current
            result = self._import(saved)
            imported = self._stored_objects(objects)
            if imported is None:
                where = ", ".join(str(path) for path in saved.paths)
                raise ProvisionError(f"Kibana reported importing {where} but cannot export all of its objects.")
            self.es.put_record(
                IMPORT_RECORD, "what it last imported into Kibana",
                {**wanted, "kibana_fingerprint": _stored_fingerprint(imported)},
            )
            return "created" if stored is None and not _any_existed(result) else "updated"

        sync(f"saved objects ({len(objects)} from {names})", read, matches, write)

    def _import(self, saved: SavedObjects) -> dict[str, Any]:
        """POST the files' lines as one .ndjson upload; every object must be imported."""
        boundary = f"setup-{uuid.uuid4().hex}"
        filename = saved.paths[0].name if len(saved.paths) == 1 else JOINED_UPLOAD_NAME
        content = saved.paths[0].read_bytes() if len(saved.paths) == 1 else b"".join(
            _with_final_newline(path.read_bytes()) for path in saved.paths
        )
        payload = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        where = ", ".join(str(path) for path in saved.paths)
        _, result = self.kibana.call(
            "POST", "/api/saved_objects/_import?overwrite=true", f"Check {where}.",
            data=payload, content_type=f"multipart/form-data; boundary={boundary}",
        )
        if not isinstance(result, dict):
            raise ProvisionError(f"POST /api/saved_objects/_import answered something that is not JSON: {str(result)[:500]}")
        errors = result.get("errors") or []
        success_count = result.get("successCount")
        if result.get("success") is not True or errors or success_count != len(saved.objects):
            lines = [
                f"Kibana did not import all saved objects from {where}: success={result.get('success')}, "
                f"successCount={success_count} of {len(saved.objects)}. Failed objects:"
            ]
            lines += [f"  - {_describe_import_error(error)}" for error in errors] or ["  (none listed)"]
            lines.append("Fix these objects in the file (for missing_references, add the referenced objects) and run setup again.")
            raise ProvisionError("\n".join(lines))
        return result

    def _sync_by_id(
        self, step: str, path: str, asset: Asset, matches: Any, update: Any, kibana: Kibana | None = None,
        outcome: Any = None, refused_hint: str = "",
    ) -> Any:
        """GET the object at ``path``: POST the asset when there is none (404), else PUT ``update()``
        unless ``matches(current)``. ``matches`` raises when the object cannot be updated into the asset.
        Every call goes through ``kibana`` (default: as elastic); ``outcome(current)``, if given, says what
        an update is reported as; ``refused_hint`` is the fix named when Kibana refuses a call to the user.
        Returns the object as Kibana held it when it was left unchanged, else None."""
        client = kibana or self.kibana

        def read() -> Any:
            status, current = client.call("GET", path, "", ok=(200, 404), refused_hint=refused_hint)
            return None if status == 404 else current

        def write(current: Any) -> str | None:
            if current is None:
                client.call("POST", path, f"Fix {asset.path}.", json_body=asset.body, refused_hint=refused_hint)
                return None
            client.call("PUT", path, f"Fix {asset.path}.", json_body=update(), refused_hint=refused_hint)
            return outcome(current) if outcome else None

        return sync(step, read, matches, write)

    def sync_connector(self, connector: Asset) -> None:
        step = f"connector {connector.name} ({connector.body['name']})"
        body = connector.body
        secrets = body.get("secrets") or {}

        def matches(current: dict[str, Any]) -> bool:
            if current.get("connector_type_id") != body["connector_type_id"]:
                raise ProvisionError(
                    f"{step} exists with type {current.get('connector_type_id')} but {connector.path} asks for "
                    f"{body['connector_type_id']}; the type cannot be changed: delete the connector in Kibana and run setup again."
                )
            # Kibana never returns secrets, so a connector that has them is re-sent on every run.
            return current.get("name") == body["name"] and covers(current.get("config", {}), body.get("config", {})) and not secrets

        self._sync_by_id(
            step, f"/api/actions/connector/{urllib.parse.quote(connector.name, safe='')}", connector, matches,
            lambda: {"name": body["name"], "config": body.get("config", {}), **({"secrets": secrets} if secrets else {})},
        )

    def sync_rule(self, rule: Asset) -> dict[str, Any] | None:
        """Create or update the rule as django_alerting. Returns the rule as Kibana holds it when it was
        left unchanged (its API key as old as its last write), None when setup just wrote it."""
        step = rule_step(rule)
        body = rule.body
        update = {key: body[key] for key in RULE_UPDATE_KEYS if key in body}

        def matches(current: dict[str, Any]) -> bool:
            for fixed in ("rule_type_id", "consumer"):
                if current.get(fixed) != body[fixed]:
                    raise ProvisionError(
                        f"{step} exists with {fixed} {current.get(fixed)!r} but {rule.path} asks for {body[fixed]!r}; "
                        f"{fixed} cannot be changed by an update: delete the rule in Kibana and run setup again."
                    )
            return covers(current, update) and _owned_by_alerting_user(current)

        def outcome(current: dict[str, Any]) -> str:
            if _owned_by_alerting_user(current):
                return "updated"
            owner = current.get("api_key_owner")
            had = "it had no API key" if owner is None else f"its API key was {owner}'s"
            return f"updated ({had}, now {ALERTING.name}'s)"

        return self._sync_by_id(
            step, rule_path(rule), rule, matches, lambda: update, self.rules_kibana, outcome,
            refused_hint=refused_rule_hint(rule, self.rules_role),
        )

    def close(self) -> None:
        self.kibana.close()
        self.rules_kibana.close()


def _owned_by_alerting_user(rule: dict[str, Any]) -> bool:
    """Whether the rule's API key is django_alerting's. A disabled rule has no key (api_key_owner null:
    update_rule.ts grants one only when the rule is enabled), so only an enabled one can be owned wrongly."""
    return not rule.get("enabled") or rule.get("api_key_owner") == ALERTING.name


def _with_final_newline(content: bytes) -> bytes:
    return content if content.endswith(b"\n") else content + b"\n"


def _stored_fingerprint(stored: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The content of the exported objects: not updated_at or version, which change on every write."""
    return fingerprint(sorted(
        [item["type"], item["id"], item.get("attributes"), item.get("references"), item.get("typeMigrationVersion")]
        for item in stored.values()
    ))


def _any_existed(result: dict[str, Any]) -> bool:
    return any(entry.get("overwrite") for entry in result.get("successResults", []))


def _describe_import_error(error: dict[str, Any]) -> str:
    detail = error.get("error", {})
    text = f"{error.get('type')}/{error.get('id')}"
    title = error.get("title") or error.get("meta", {}).get("title")
    if title:
        text += f" ({title!r})"
    text += f": {detail.get('type', 'unknown')}"
    if detail.get("references"):
        text += " to " + ", ".join(f"{ref.get('type')}/{ref.get('id')}" for ref in detail["references"])
    if detail.get("message"):
        text += f" ({detail['message']})"
    return text
