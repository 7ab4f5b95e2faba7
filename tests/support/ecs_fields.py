"""The ECS fields the documents use, as ECS 9.4.0 defines them: facts copied from elastic/ecs at tag v9.4.0
(commit 354fd8d0ca99faa15405d1ea1d3bb396724d3e5a), generated/ecs/ecs_flat.yml: each field's `type`, its `text`
multi-field and whether `normalize` lists `array`. Only the fields this project writes; a field ECS lacks is
no ECS field, and ours go under `django.*`.
"""

from typing import NamedTuple

ECS_VERSION = "9.4.0"


class EcsField(NamedTuple):
    type: str
    text: str | None = None
    array: bool = False


ECS_FIELDS = {
    "@timestamp": EcsField("date"),
    "agent.name": EcsField("keyword"),
    "agent.type": EcsField("keyword"),
    "client.ip": EcsField("ip"),
    "ecs.version": EcsField("keyword"),
    "error.message": EcsField("match_only_text"),
    "error.stack_trace": EcsField("wildcard", text="match_only_text"),
    "error.type": EcsField("keyword"),
    "event.action": EcsField("keyword"),
    "event.category": EcsField("keyword", array=True),
    "event.code": EcsField("keyword"),
    "event.created": EcsField("date"),
    "event.dataset": EcsField("keyword"),
    "event.duration": EcsField("long"),
    "event.ingested": EcsField("date"),
    "event.kind": EcsField("keyword"),
    "event.module": EcsField("keyword"),
    "event.outcome": EcsField("keyword"),
    "event.type": EcsField("keyword", array=True),
    "host.name": EcsField("keyword"),
    "http.request.id": EcsField("keyword"),
    "http.request.method": EcsField("keyword"),
    "http.request.referrer": EcsField("keyword"),
    "http.response.body.bytes": EcsField("long"),
    "http.response.status_code": EcsField("long"),
    "http.version": EcsField("keyword"),
    "log.file.path": EcsField("keyword"),
    "log.level": EcsField("keyword"),
    "log.logger": EcsField("keyword"),
    "log.origin.file.line": EcsField("long"),
    "log.origin.file.name": EcsField("keyword"),
    "log.origin.function": EcsField("keyword"),
    "message": EcsField("match_only_text"),
    "process.pid": EcsField("long"),
    "related.ip": EcsField("ip", array=True),
    "related.user": EcsField("keyword", array=True),
    "service.environment": EcsField("keyword"),
    "service.name": EcsField("keyword"),
    "service.version": EcsField("keyword"),
    "source.ip": EcsField("ip"),
    "tags": EcsField("keyword", array=True),
    "url.original": EcsField("wildcard", text="match_only_text"),
    "url.path": EcsField("wildcard"),
    "url.query": EcsField("keyword"),
    "user.name": EcsField("keyword", text="match_only_text"),
    "user.target.group.name": EcsField("keyword"),
    "user.target.name": EcsField("keyword", text="match_only_text"),
    "user_agent.device.name": EcsField("keyword"),
    "user_agent.name": EcsField("keyword"),
    "user_agent.original": EcsField("keyword", text="match_only_text"),
    "user_agent.os.full": EcsField("keyword", text="match_only_text"),
    "user_agent.os.name": EcsField("keyword", text="match_only_text"),
    "user_agent.os.version": EcsField("keyword"),
    "user_agent.version": EcsField("keyword"),
    "rule.reference": EcsField("keyword"),
    "rule.name": EcsField("keyword"),
    "rule.id": EcsField("keyword"),
    "rule.uuid": EcsField("keyword"),
}

# event.category's allowed values with the event.type values ECS expects with each (expected_event_types), for the
# categories the project uses; event.kind's and event.outcome's allowed values.
ECS_CATEGORY_TYPES = {
    "authentication": frozenset(["end", "info", "start"]),
    "database": frozenset(["access", "change", "error", "info"]),
    "iam": frozenset(["admin", "change", "creation", "deletion", "group", "info", "user"]),
    "network": frozenset(["access", "allowed", "connection", "denied", "end", "info", "protocol", "start"]),
    "process": frozenset(["access", "change", "end", "info", "start"]),
    "session": frozenset(["end", "info", "start"]),
    "web": frozenset(["access", "error", "info"]),
}
ECS_KINDS = frozenset({"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"})
ECS_OUTCOMES = frozenset({"failure", "success", "unknown"})
