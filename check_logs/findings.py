"""What the check notices about one event once the pipeline has filtered it.

- **Failed**: any tag but ``multiline``, which the multiline codec gives every record of more than one
  line (logstash-codec-multiline lib/logstash/codecs/multiline.rb, merge_events). The others:
  ``_grokparsefailure`` with ``_django_record_parsefailure`` or ``_access_parsefailure`` (the grok filters'
  tag_on_failure: no expression matched), ``_dateparsefailure`` (the date filter's: the timestamp did not
  parse), ``_record_cut`` (the pipeline's: a record a failed write cut short), ``_django_record_tail`` (the
  pipeline's: text that does not begin at a record start), and the codec's
  ``multiline_codec_max_lines_reached`` / ``multiline_codec_max_bytes_reached`` (a record split at its
  limits); ``_groktimeout`` too (logstash-filter-grok lib/logstash/filters/grok.rb, tag_on_timeout), which the
  model sets when its own match runs past timeout_millis, and any tag a later pipeline adds.
- **Ids** (events that parsed): our format's records carry a record id (else their document id is
  random: a replay indexes them again) and, when written during a request, its request id. A record
  was written during a request when it is Django's request logger's (module ``log``), names a client
  address or path, or is a login, logout or failed login. An access line always was. Tutorial-format
  records carry neither id by design: they are counted apart, not as problems.
- **Security events** (``event.dataset: django.security``): a login, logout or failed login without
  ``user.name``; one of ours written during a request without ``source.ip``. The tutorial's format has
  no address by design: counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from stack_models.logstash_events import Document, Event, field_value

WHOLE_RECORD_TAGS = frozenset({"multiline"})
LOGIN_ACTIONS = frozenset({"user_logged_in", "user_logged_out", "user_login_failed"})
ACCESS_DATASET = "django.access"
SECURITY_DATASET = "django.security"
# Django logs its 4xx/5xx and security responses through django/utils/log.py's log_response (from
# django/core/handlers/exception.py, django/middleware/csrf.py): module "log", always during a request.
REQUEST_MODULES = frozenset({"log"})


@dataclass(frozen=True)
class Facts:
    dataset: str
    failure_tags: tuple[str, ...]
    form: str  # "ours", "tutorial", "access", or "failed"
    record_id_lost: bool = False
    request_id: str = ""  # "present", "lost", "outside" (outside a request), or "" (not applicable)
    missing_user: bool = False
    missing_address: bool = False


def facts(event: Event, document: Document, random_document_id: bool) -> Facts:
    """``random_document_id``: a uuid filter ran on the event, so its document id is random."""
    source = document.source
    dataset = field_value(source, ("event", "dataset")) or ""
    failure_tags = tuple(tag for tag in source.get("tags", []) if tag not in WHOLE_RECORD_TAGS)
    if failure_tags:
        return Facts(dataset, failure_tags, "failed")
    metadata = event.get("@metadata", {})
    record_id_lost = random_document_id or metadata.get("record_id") == "-"
    request_id = field_value(source, ("http", "request", "id"))
    if dataset == ACCESS_DATASET:
        return Facts(dataset, (), "access", record_id_lost, "present" if request_id else "lost")
    if metadata.get("context") is None:  # the pipeline tells the formats apart by the context alone
        return Facts(dataset, (), "tutorial", missing_user=_missing_user(source, dataset))
    action = field_value(source, ("event", "action"))
    during_request = bool(
        request_id or field_value(source, ("django", "module")) in REQUEST_MODULES or field_value(source, ("source", "ip"))
        or field_value(source, ("url", "path")) or action in LOGIN_ACTIONS
    )
    if request_id:
        request = "present"
    else:
        request = "lost" if during_request else "outside"
    missing_address = dataset == SECURITY_DATASET and during_request and not field_value(source, ("source", "ip"))
    return Facts(dataset, (), "ours", record_id_lost, request, _missing_user(source, dataset), missing_address)


def _missing_user(source: dict, dataset: str) -> bool:
    return dataset == SECURITY_DATASET and field_value(source, ("event", "action")) in LOGIN_ACTIONS and not field_value(source, ("user", "name"))


def field_paths(source: dict, prefix: str = "") -> list[str]:
    """Every field path of a document (``http.request.id``); a list or a scalar ends a path."""
    paths = []
    for key, value in source.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            paths.extend(field_paths(value, path + "."))
        else:
            paths.append(path)
    return paths
