"""Which index actions an Elasticsearch role's index privileges grant, on which index names.

Follows elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/
authz/privilege/IndexPrivilege.java: each named privilege is an automaton over action names, built from
these patterns (`*` matches anything); a privilege that is itself an action name ("indices:...") grants
that action; any other name is refused, as IndexPrivilege.resolve refuses it ("unknown index privilege").
Action names are the actions' NAME constants (CreateIndexAction "indices:admin/create", AutoCreateAction
"indices:admin/auto_create", CreateDataStreamAction "indices:admin/data_stream/create", AutoPutMappingAction
"indices:admin/mapping/auto_put", RefreshAction "indices:admin/refresh", ...). Privileges newer versions
add (manage_data_stream_lifecycle, the failure store's) are not modelled: a role naming one is refused here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_VIEW_METADATA = (
    "indices:admin/aliases/get", "indices:admin/get", "indices:admin/mappings/fields/get*",
    "indices:admin/mappings/get", "indices:admin/shards/search_shards", "indices:admin/validate/query*",
    "indices:monitor/settings/get", "indices:admin/ilm/explain", "indices:admin/data_stream/get",
    "indices:admin/resolve/index", "indices:data/read/field_caps*", "indices:data/read/xpack/rollup/get/index/caps*",
    "indices:monitor/transform/checkpoint*",
)
INDEX_PRIVILEGE_ACTIONS: dict[str, tuple[str, ...]] = {
    "none": (),
    "all": ("indices:*", "internal:transport/proxy/indices:*"),
    "read": ("indices:data/read/*",),
    "read_cross_cluster": ("internal:transport/proxy/indices:data/read/*", "indices:admin/shards/search_shards"),
    "create": ("indices:data/write/index*", "indices:data/write/bulk*"),
    "create_doc": ("indices:data/write/index", "indices:data/write/index[*", "indices:data/write/index:op_type/create",
                   "indices:data/write/bulk*"),
    "index": ("indices:data/write/index*", "indices:data/write/bulk*", "indices:data/write/update*"),
    "delete": ("indices:data/write/delete*", "indices:data/write/bulk*"),
    "write": ("indices:data/write/*", "indices:admin/mapping/auto_put"),
    "monitor": ("indices:monitor/*",),
    "manage": ("indices:monitor/*", "indices:admin/*", "indices:data/read/field_caps*",
               "indices:data/read/xpack/rollup/get/index/caps*"),
    "create_index": ("indices:admin/create", "indices:admin/auto_create", "indices:admin/data_stream/create"),
    "delete_index": ("indices:admin/delete", "indices:admin/data_stream/delete"),
    "view_index_metadata": _VIEW_METADATA,
    "manage_follow_index": ("indices:admin/xpack/ccr/put_follow", "indices:admin/xpack/ccr/unfollow",
                            "indices:admin/close*", "indices:admin/data_stream/promote", "indices:admin/rollover"),
    "manage_leader_index": ("indices:admin/xpack/ccr/forget_follower*",),
    "manage_ilm": ("indices:admin/ilm/*",),
    "maintenance": ("indices:admin/refresh*", "indices:admin/flush*", "indices:admin/synced_flush",
                    "indices:admin/forcemerge*"),
    "auto_configure": ("indices:admin/mapping/auto_put", "indices:admin/auto_create"),
}

# What creates an index with a body of the caller's own (settings, mappings, aliases), instead of the
# template's alone: CreateIndexAction. AutoCreateAction creates it from the matching template only.
CREATE_INDEX_WITH_OWN_SETTINGS = "indices:admin/create"
AUTO_CREATE_THROUGH_TEMPLATE = "indices:admin/auto_create"
REFRESH = "indices:admin/refresh"


def _glob(pattern: str) -> re.Pattern:
    return re.compile(".*".join(map(re.escape, pattern.split("*"))))


def action_patterns(privilege: str) -> tuple[str, ...]:
    if privilege.startswith(("indices:", "internal:")):
        return (privilege,)
    try:
        return INDEX_PRIVILEGE_ACTIONS[privilege.lower()]
    except KeyError:
        raise ValueError(f"unknown index privilege [{privilege}]") from None


def privileges_grant(privileges: Iterable[str], action: str) -> bool:
    return any(_glob(pattern).fullmatch(action) for privilege in privileges for pattern in action_patterns(privilege))


def granting_privileges(privileges: Iterable[str], action: str) -> list[str]:
    """The privileges of the list that grant ``action`` (IndexPrivilege.findPrivilegesThatGrant, on one list)."""
    return [privilege for privilege in privileges if privileges_grant([privilege], action)]


def role_grants(roles: Iterable[Mapping[str, Any]], index_pattern: str, action: str) -> bool:
    """Whether any of the roles grants ``action`` on every index ``index_pattern`` can name.

    An entry covers the pattern when one of its names, a wildcard pattern, matches the pattern's text with
    its `*` read as a character: "django-logs-*" covers "django-logs-*", "django-*" covers it, "django-logs-2*"
    does not (it leaves out django-logs-1...).
    """
    return any(
        privileges_grant(entry.get("privileges", []), action)
        and any(_glob(name).fullmatch(index_pattern) for name in entry.get("names", []))
        for role in roles for entry in role.get("indices", [])
    )
