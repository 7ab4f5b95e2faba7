"""One role, django_responder, lets a responder open everything the dashboards, the saved searches and the
runbook read: every data view they use, derived from the saved objects and the runbook's text.

Index privileges are evaluated with tests/support/es_privileges.py (IndexPrivilege.java), Kibana's feature
privileges with tests/support/kibana_privileges.py.
"""

import json
import re

import pytest

from tests.support.es_privileges import role_grants
from tests.support.kibana_objects import load_saved_objects
from tests.support.kibana_privileges import grants, held_privileges
from tests.support.paths import DOCS_DIR, ELASTICSEARCH_DIR

RESPONDER = "django_responder"
# What Discover, Lens and a saved search panel ask of a data view's indices: the search, the field list
# (field_caps, both read and view_index_metadata grant it) and the index resolution Kibana makes for a data
# view; Kibana requires read and view_index_metadata for Discover (elastic/kibana#111642).
DATA_VIEW_ACTIONS = ("indices:data/read/search", "indices:data/read/field_caps", "indices:admin/resolve/index")
# The Kibana features a responder opens: Discover and Dashboards, read only.
FEATURES = ("discover_v2", "dashboard_v2")
RUNBOOK_PAGES = ("incident-response.md", "security.md")


def load_role(name: str) -> dict:
    return json.loads((ELASTICSEARCH_DIR / "roles" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict]:
    return {(obj["type"], obj["id"]): obj for obj in load_saved_objects()}


def data_view_titles(obj: dict, objects: dict) -> set[str]:
    """The index patterns an object reads: its own title for a data view, else those of what it references."""
    if obj["type"] == "index-pattern":
        return {obj["attributes"]["title"]}
    return {title for ref in obj.get("references", []) for title in data_view_titles(objects[(ref["type"], ref["id"])], objects)}


def opened_by_responders(objects: dict) -> list[dict]:
    return [obj for obj in objects.values() if obj["type"] in ("dashboard", "search", "index-pattern")]


def covers(role: dict, titles: set[str]) -> bool:
    return all(role_grants([role], title, action) for title in titles for action in DATA_VIEW_ACTIONS)


def test_the_responder_role_reads_every_data_view_a_dashboard_or_saved_search_reads(objects):
    role = load_role(RESPONDER)
    for obj in opened_by_responders(objects):
        titles = data_view_titles(obj, objects)
        assert titles, obj["id"]
        assert covers(role, titles), f"{obj['type']} {obj['attributes']['title']}: {RESPONDER} cannot read {sorted(titles)}"


def test_the_responder_role_reads_every_data_view_the_runbook_and_security_page_name(objects):
    role = load_role(RESPONDER)
    views = {obj["attributes"]["name"]: obj["attributes"]["title"] for obj in objects.values() if obj["type"] == "index-pattern"}
    for page in RUNBOOK_PAGES:
        text = " ".join((DOCS_DIR / page).read_text(encoding="utf-8").split())
        named = {name for name in re.findall(r"\*\*([^*]+)\*\*", text) if name in views}
        assert covers(role, {views[name] for name in named}), page
    runbook = " ".join((DOCS_DIR / "incident-response.md").read_text(encoding="utf-8").split())
    assert "data view **Django logs**" in runbook  # where its queries run


def test_the_security_events_dashboard_needs_both_indices_so_neither_alone_would_do(objects):
    # What the two roles it replaces held: each index alone shows the dashboard with empty panels.
    titles = data_view_titles(objects[("dashboard", "django-security")], objects)
    assert titles == {"django-logs-*", "django-alerts"}
    entry = load_role(RESPONDER)["indices"][0]
    for title in titles:
        alone = {"indices": [{**entry, "names": [title]}]}
        assert not covers(alone, titles)


def test_the_responder_role_opens_discover_and_dashboards_and_writes_nothing():
    role = load_role(RESPONDER)
    held = held_privileges([RESPONDER], {RESPONDER: role})
    assert all(grants(held, feature, "read") for feature in FEATURES)
    assert not any(grants(held, feature, "all") for feature in FEATURES)
    assert role["cluster"] == []
    for title in ("django-logs-*", "django-alerts"):
        for action in ("indices:data/write/bulk", "indices:admin/create", "indices:admin/delete"):
            assert not role_grants([role], title, action), (title, action)
