"""kibana/rules/privilege-gain.json on the documents the contract's lines make: written to a security log, read by
the pipeline's model (on Joni and Joda when jruby is here), then every rule evaluated as Kibana would run it
(stack_models/alert_rules.py). It fires at once, one alert per event,
on a gain of is_superuser or is_staff and on a deleted user, and on nothing else."""

import datetime as dt

import pytest

from drill.rules import load_rules
from provision.settings import DETECTION_VARIABLES
from stack_models.alert_rules import firing_alerts
from stack_models.logstash_pipeline import Pipeline
from tests.support import contract_lines as lines
from tests.support.engines import engine_for_tests

DEFAULTS = {name: default for name, (default, _low, _high) in DETECTION_VARIABLES.items()}
# The samples' time (contract_lines.TIMESTAMP, read in UTC) as Kibana writes an ES|QL datetime.
AT = "2026-12-08T10:00:00.000Z"
RULE_RUN = dt.datetime(2026, 12, 8, 10, 1, tzinfo=dt.timezone.utc)


def privilege(target: str, name: str, old: str, new: str, actor: str | None = "admin") -> tuple[str, str, str]:
    user = f"user={actor} " if actor else ""
    return ("WARNING", f"event=privilege_changed event_code=authz_change {user}target_user={target} privilege={name} "
                       f"old={old} new={new}",
            f"Privilege changed: {name} of user {target} {old} -> {new} "
            + (f"by {actor}" if actor else "via manage.py createsuperuser (pid 4242)"))


@pytest.fixture(scope="module")
def assets():
    return load_rules(DEFAULTS)


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline.offline("UTC", engine_for_tests())


def log_text(samples, request_id: str = lines.REQUEST_ID) -> str:
    return "".join(lines.security_line(*sample, record_number=number, request_id=request_id)
                   for number, sample in enumerate(samples, 1))


def fired(assets, pipeline, folder, text: str, now: dt.datetime = RULE_RUN) -> dict:
    """The alerts of every rule on the documents ``text``, written to ``folder``/security.log, makes."""
    (folder / "security.log").write_text(text, encoding="utf-8")
    documents = [document for _, document in pipeline.process_file(folder / "security.log")]
    assert len(documents) == text.count("\n")
    assert not any(document.source.get("tags") for document in documents)
    # As Elasticsearch returns _source: @timestamp as ISO 8601 text.
    hits = [{"_index": document.index, "_source": {**document.source, "@timestamp": document.source["@timestamp"].isoformat()}}
            for document in documents]
    alerts = {stem: firing_alerts(rule.body["params"], hits, assets.logs_mappings, now)
              for stem, rule in assets.rules.items()}
    return {stem: [alert.id for alert in found] for stem, found in alerts.items() if found}


@pytest.mark.parametrize("name", ["is_superuser", "is_staff"])
def test_a_gained_superuser_or_staff_status_fires_at_once(assets, pipeline, tmp_path, name):
    assert fired(assets, pipeline, tmp_path, log_text([privilege("bob", name, "false", "true")])) == {
        "privilege-gain": [f"{AT},privilege_changed,bob,{name}"]}


def test_the_contracts_privilege_and_deletion_samples_fire_and_no_other_new_event_does(assets, pipeline, tmp_path):
    samples = list(lines.SECURITY_SAMPLES.values()) + [lines.GROUP_MEMBERSHIP, lines.GROUP_PERMISSION]
    assert fired(assets, pipeline, tmp_path, log_text(samples)) == {"privilege-gain": [
        f"{AT},privilege_changed,bob,is_superuser", f"{AT},user_deleted,carol"]}


@pytest.mark.parametrize("sample", [
    privilege("bob", "is_superuser", "true", "false"),  # a revocation
    privilege("bob", "is_staff", "true", "false"),
    privilege("bob", "is_active", "false", "true"),  # reactivated: not a privilege of its own
    privilege("bob", "is_active", "true", "false"),
    privilege("bob", '"group:admins"', "false", "true"),  # a group's grants are out of the rule's scope
    privilege("bob", "permission:auth.change_user", "false", "true"),
    lines.SECURITY_SAMPLES["user_created"],
    lines.SECURITY_SAMPLES["admin_action"],
], ids=["superuser revoked", "staff revoked", "reactivated", "deactivated", "group", "permission", "user created",
        "admin action"])
def test_no_gain_of_superuser_or_staff_and_no_deletion_fires_nothing(assets, pipeline, tmp_path, sample):
    assert fired(assets, pipeline, tmp_path, log_text([sample])) == {}


def test_createsuperuser_outside_a_request_and_with_no_actor_fires_too(assets, pipeline, tmp_path):
    """manage.py createsuperuser logs privilege_changed with no request and no actor (the contract): same rule."""
    samples = [privilege("root2", "is_staff", "false", "true", actor=None),
               privilege("root2", "is_superuser", "false", "true", actor=None)]
    assert fired(assets, pipeline, tmp_path, log_text(samples, request_id="-")) == {"privilege-gain": [
        f"{AT},privilege_changed,root2,is_staff", f"{AT},privilege_changed,root2,is_superuser"]}


def test_a_hostile_target_name_still_fires_with_the_name_escaped(assets, pipeline, tmp_path):
    sample = privilege(lines.HOSTILE_WRITTEN, "is_superuser", "false", "true")
    assert fired(assets, pipeline, tmp_path, log_text([sample])) == {"privilege-gain": [
        f"{AT},privilege_changed,{lines.HOSTILE_WRITTEN[1:-1]},is_superuser"]}


def test_every_gain_is_its_own_alert_even_for_one_user_and_privilege_within_the_window(assets, pipeline, tmp_path):
    # Granted, revoked, granted again 30 s later: two gains. Grouped by user or privilege only, the alert still
    # active for the first would hide the second.
    again = lines.security_line(*privilege("bob", "is_superuser", "false", "true"), record_number=3)
    text = log_text([privilege("bob", "is_superuser", "false", "true"), privilege("bob", "is_superuser", "true", "false")])
    text += again.replace(lines.TIMESTAMP, "2026-12-08 10:00:30,000")
    assert fired(assets, pipeline, tmp_path, text) == {"privilege-gain": [
        f"{AT},privilege_changed,bob,is_superuser", "2026-12-08T10:00:30.000Z,privilege_changed,bob,is_superuser"]}


@pytest.mark.parametrize(("minutes_later", "fires"), [(4, True), (5, False)])
def test_an_event_fires_while_it_is_in_the_five_minute_window(assets, pipeline, tmp_path, minutes_later, fires):
    # The window is (now - 5 min, now]: an event exactly 5 minutes old is out (fetch_esql_query.ts, gt).
    text = log_text([privilege("bob", "is_superuser", "false", "true")])
    now = dt.datetime(2026, 12, 8, 10, minutes_later, tzinfo=dt.timezone.utc)
    expected = {"privilege-gain": [f"{AT},privilege_changed,bob,is_superuser"]} if fires else {}
    assert fired(assets, pipeline, tmp_path, text, now) == expected
