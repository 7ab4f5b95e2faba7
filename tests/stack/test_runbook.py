"""docs/incident-response.md stays true: its anchors, commands, variables, queries and links.

Every command the runbook names is checked against the real thing: `manage.py` commands against
Django's own parser of that command, `make` targets against `make help`, Compose services against
docker-compose.yml, variables against .env.example, KQL against the project's KQL reader and the
index template's fields. Its links are checked with every page's in tests/stack/test_docs.py.
"""

import json
import re
import shlex

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django_elk_logging.log_files import CUT_MARKER

from drill.scenarios import SCENARIOS
from stack_models.es_fields import mapped_fields
from stack_models.esql import read_esql
from stack_models.esql_run import run_esql
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import engine_for_tests
from tests.support.env_file import example_values
from tests.support.kibana_objects import (
    RULES_DIR,
    load_api_objects,
    load_saved_objects,
    mapped_field_types,
)
from tests.support.kibana_objects import kql_fields as read_kql_fields
from tests.support.makefile import help_targets
from tests.support.markdown import Document, github_anchor
from tests.support.paths import COMPOSE_FILE, DOCS_DIR, INDEX_TEMPLATE_PATH, MAKEFILE, README_PATH

RUNBOOK_PATH = DOCS_DIR / "incident-response.md"
# Fences whose text is no shell: Discover queries, and the review template to copy.
NON_SHELL_FENCES = {"kql", "esql", "markdown"}
# Set by the operator's login shell, not by .env (the runbook's `--actor "$USER"`).
SHELL_VARIABLES = {"USER"}
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_SNAKE_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_ASSIGNED_OR_EXPANDED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)|\b([A-Z][A-Z0-9_]*)=")
_SHELL_SEPARATORS = {";", "|", "||", "&&", "&", ">", ">>", "<"}


@pytest.fixture(scope="module")
def runbook() -> Document:
    return Document(RUNBOOK_PATH)


def shell_texts(document: Document) -> list[str]:
    """Every code span and every line of a shell fence: where commands are written."""
    lines = [line for fence in document.fences if fence.info not in NON_SHELL_FENCES for line in fence.body.splitlines()]
    return document.code_spans() + lines


def commands_after(word: str, texts: list[str]) -> list[list[str]]:
    """The arguments after each `word` token (e.g. manage.py), up to a shell separator."""
    found = []
    for text in texts:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for index, token in enumerate(tokens):
            if token == word:
                rest = tokens[index + 1 :]
                cut = next((i for i, t in enumerate(rest) if t in _SHELL_SEPARATORS), len(rest))
                found.append(rest[:cut])
    return found


def rule_headings(document: Document) -> dict[str, object]:
    return {heading.text: heading for heading in document.headings}


# --- one section per rule -------------------------------------------------------------------


RULES = load_api_objects(RULES_DIR)


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_each_rule_has_a_section_whose_anchor_is_its_file_name(runbook, rule):
    # The alerts link to docs/incident-response.md#<file name without .json>; the heading is
    # that name exactly, so its GitHub anchor is too.
    heading = rule_headings(runbook).get(rule.path.stem)
    assert heading is not None, f"no heading `### {rule.path.stem}` in {RUNBOOK_PATH.name}"
    assert heading.anchor == rule.path.stem
    assert heading.level == 3


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_each_rule_section_names_the_rule_its_thresholds_with_their_defaults_and_a_query(runbook, rule):
    section = runbook.section(rule_headings(runbook)[rule.path.stem])
    flowing = " ".join(section.split())  # prose wraps anywhere
    assert f"**{rule.body['name']}.**" in flowing
    defaults = example_values()
    for name in sorted(set(_PLACEHOLDER.findall(json.dumps(rule.body)))):
        assert f"`{name}` ({defaults[name]})" in flowing, f"{rule.path.stem}: say `{name}` ({defaults[name]})"
    assert "```kql\n" in section, f"{rule.path.stem}: give a Discover query to open first"


def test_the_dashboards_searches_and_panels_a_rule_section_names_exist(runbook):
    objects = load_saved_objects()
    opened = {o["attributes"]["title"] for o in objects if o["type"] in ("dashboard", "search")}
    panels = {o["attributes"]["title"] for o in objects if o["type"] == "lens"}
    names = {rule.body["name"] + "." for rule in RULES}
    for rule in RULES:
        section = runbook.section(rule_headings(runbook)[rule.path.stem])
        prose = " ".join(re.sub(r"```.*?```|`[^`]*`", "", section, flags=re.DOTALL).split())
        bold = set(re.findall(r"\*\*([^*]+)\*\*", prose)) - names
        assert bold, f"{rule.path.stem}: name the dashboard or saved search to open first"
        assert bold <= opened, f"{rule.path.stem}: not a dashboard or saved search: {sorted(bold - opened)}"
        assert set(re.findall(r'"([^"]+)"', prose)) <= panels, f"{rule.path.stem}: a quoted panel title that no panel has"


# What each parse-failure tag leaves of a record, as the pipeline model makes it (tutorial-format lines of
# django_debug.log): the tagged event, and the events it was split into.
RECORD = "WARNING 2026-12-01 12:00:00,000 signals Login failed: alice"
TRACE = "ERROR 2026-12-01 12:00:00,000 log Internal Server Error: /boom/\nTraceback (most recent call last):\n"
FRAME = '  File "x.py", line 1, in f\n'


def tagged_lines(max_lines: int) -> dict[str, list[str]]:
    """Lines that make an event with each tag; ``max_lines``: the codec's on django_debug.log."""
    return {
        "_grokparsefailure": ["not a record at all"],
        "_dateparsefailure": [RECORD.replace("2026-12-01 12:00:00,000", "2026-13-45 25:61:00,000")],
        "multiline_codec_max_lines_reached": [TRACE + FRAME * max_lines],
        "_record_cut": [RECORD[:-3] + CUT_MARKER, RECORD[:25] + CUT_MARKER],
    }


# A 10 MiB record is not built here: the codec splits it as it splits one over max_lines (multiline.rb).
SPLIT_ALIKE = {"multiline_codec_max_bytes_reached": "multiline_codec_max_lines_reached"}
# The model never times out. logstash-filter-grok lib/logstash/filters/grok.rb, filter: a GrokTimeoutException
# ends the filter before any capture is handled, and only tag_on_timeout (_groktimeout) is added (the
# pipeline then adds _grokparsefailure).
# The dead_letters pipeline's documents come from no log line: tests/stack/test_dead_letters.py shows they
# hold no field but their text, the reason and the tag (no log.level, no event.action).
UNPARSED_WITHOUT_MODEL = {"_groktimeout", "_dead_letter"}


def parse_failure_bullets(runbook) -> dict[str, str]:
    section = runbook.section(rule_headings(runbook)["parse-failures"])
    bullets = re.findall(r"^- (.*?)(?=^- |^$)", section, re.M | re.S)
    return {tag: " ".join(bullet.split()) for bullet in bullets for tag in re.findall(r"`([^`]+)`", bullet.split(":")[0])}


def test_the_runbook_says_which_parse_failures_the_other_rules_count_as_the_pipeline_parses_them(runbook, tmp_path):
    pipeline = Pipeline.offline("UTC", engine=engine_for_tests())
    [rule] = [rule for rule in RULES if rule.path.stem == "parse-failures"]
    tags = json.loads(rule.body["params"]["esQuery"])["query"]["bool"]["filter"][0]["terms"]["tags"]
    bullets = parse_failure_bullets(runbook)
    assert set(bullets) == set(tags)
    for tag in UNPARSED_WITHOUT_MODEL:
        assert "no other rule counts it" in bullets[tag], tag
    examples = tagged_lines(pipeline.file_input("django_debug.log").get("codec").get("max_lines"))
    for tag in set(tags) - UNPARSED_WITHOUT_MODEL:
        log = tmp_path / "django_debug.log"
        log.write_text("".join(line + "\n" for line in examples[SPLIT_ALIKE.get(tag, tag)]))
        events = [document.source for _, document in pipeline.process_file(log)]
        tagged = next(event for event in events if SPLIT_ALIKE.get(tag, tag) in event.get("tags", []))
        # Every rule but this one keys on a parsed field: log.level, event.action.
        counted = "_grokparsefailure" not in tagged["tags"] and "level" in tagged["log"]
        said = "the other rules count it" if counted else "no other rule counts it"
        assert said in bullets[tag], f"{tag}: say {said!r}"
        if len(events) > 1 or tag == "_record_cut":  # a split or cut leaves a grok failure too
            assert any("_grokparsefailure" in event.get("tags", []) for event in events), tag
            assert "`_grokparsefailure`" in bullets[tag], tag


# --- commands --------------------------------------------------------------------------------


def test_every_manage_py_command_exists_and_accepts_the_options_used(runbook):
    commands = commands_after("manage.py", shell_texts(runbook))
    assert {args[0] for args in commands} >= {"deactivate_user", "changepassword", "shell"}
    known = get_commands()
    for args in commands:
        name, options = args[0], args[1:]
        assert name in known, f"manage.py {name}: no such management command"
        command = load_command_class(known[name], name)
        # Django's own parser of the command: an unknown option or a missing required one raises
        # CommandError (CommandParser.error outside the command line).
        command.create_parser("manage.py", name).parse_args(options)


def test_manage_py_runs_in_the_app_container(runbook):
    for text in shell_texts(runbook):
        if "manage.py" in text:
            assert "docker compose exec app python manage.py" in text, text


def test_every_make_target_is_in_make_help_with_variables_the_makefile_reads(runbook):
    targets = set(help_targets())
    makefile = MAKEFILE.read_text(encoding="utf-8")
    used = commands_after("make", shell_texts(runbook))
    assert {args[0] for args in used} >= {"up", "ps", "logs"}
    for args in used:
        assert args[0] in targets, f"make {args[0]}: not a target in make help"
        for assignment in args[1:]:
            variable = assignment.split("=", 1)[0]
            assert "=" in assignment and f"$({variable})" in makefile, f"make {' '.join(args)}: {variable} is not read"


def _compose_services(args: list[str]) -> list[str]:
    """The service names of `docker compose <subcommand> ...` (the runbook's options take no value)."""
    subcommand, rest = args[0], [a for a in args[1:] if not a.startswith("-")]
    if subcommand in ("exec", "port"):
        return rest[:1]
    if subcommand in ("up", "stop", "logs", "restart"):
        return rest
    return []


def compose_service_names() -> set[str]:
    """The keys of docker-compose.yml's top-level `services:` block (two-space indent, as written)."""
    block = re.search(r"^services:\n(.*?)(?=^\S|\Z)", COMPOSE_FILE.read_text(encoding="utf-8"), re.M | re.S)
    return set(re.findall(r"^  ([A-Za-z0-9][A-Za-z0-9_.-]*):[ \t]*$", block.group(1), re.M))


def test_every_compose_service_named_exists(runbook):
    services = compose_service_names()
    assert {"app", "kibana", "logstash", "setup", "elasticsearch", "logrotate"} == services
    named = [service for args in commands_after("compose", shell_texts(runbook)) for service in _compose_services(args)]
    assert {"app", "kibana"} <= set(named)  # the node to reset a password on: troubleshooting.md, by profile
    assert set(named) <= services
    for args in commands_after("make", shell_texts(runbook)):
        for assignment in args[1:]:
            if assignment.startswith("SERVICE="):
                assert assignment.removeprefix("SERVICE=") in services, assignment


def test_every_environment_variable_named_is_in_env_example(runbook):
    documented = set(example_values())
    texts = shell_texts(runbook)
    for text in texts:
        # `make logs SERVICE=app` sets a make variable, checked above.
        text = re.sub(r"\bmake(\s+[A-Za-z0-9_-]+)?(\s+[A-Z_]+=\S*)*", "", text)
        for expanded, assigned in _ASSIGNED_OR_EXPANDED.findall(text):
            name = expanded or assigned
            assert name in documented | SHELL_VARIABLES, f"{name} (in {text!r}) is not in .env.example"
    # Other names in code are .env's, Django settings the runbook explains (SECRET_KEY_FALLBACKS) or
    # variables of make commands (DRILL_LOG), which the Makefile must read.
    named = {name for text in texts for name in _SNAKE_NAME.findall(text)}
    assert {"DJANGO_BLOCKED_IPS", "BRUTE_FORCE_FAILURES", "DJANGO_SECRET_KEY"} <= named
    make_variables = {assignment.split("=", 1)[0] for args in commands_after("make", texts) for assignment in args[1:]}
    makefile = MAKEFILE.read_text(encoding="utf-8")
    for name in named - documented:
        if name in make_variables:
            assert f"$({name})" in makefile, f"{name}: a make variable the Makefile does not read"
        else:
            assert hasattr(settings, name), f"{name}: neither in .env.example nor a Django setting"


# --- queries ---------------------------------------------------------------------------------


def test_every_kql_query_is_read_by_the_kql_reader_and_uses_only_mapped_fields(runbook):
    mapped = set(mapped_field_types(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))))
    queries = [fence.body.strip() for fence in runbook.fences if fence.info == "kql"]
    assert len(queries) >= len(RULES)
    for query in queries:
        assert "\n" not in query, f"one query per block, on one line: {query!r}"
        fields = read_kql_fields(query)  # UnsupportedQuery outside the reader's subset
        assert fields and fields <= mapped, f"{query!r}: unmapped {sorted(fields - mapped)}"


def test_every_esql_query_is_read_by_the_esql_reader_and_runs_on_the_mapping(runbook):
    # Discover's ES|QL mode finds an account in every spelling, as the account rules group it.
    fields = mapped_fields(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))["template"]["mappings"])
    queries = [fence.body.strip() for fence in runbook.fences if fence.info == "esql"]
    assert queries
    for query in queries:
        assert "\n" not in query, f"one query per block, on one line: {query!r}"
        run_esql(read_esql(query), [], fields)  # EsqlUnsupported outside the subset, EsqlError on a bad field or type


# --- links: the README's to the runbook, and anchors as GitHub makes them -----------------------


def test_readme_points_to_the_runbook_and_its_secrets_section():
    links = Document(README_PATH).links()
    assert "docs/incident-response.md" in links
    assert "docs/incident-response.md#rotating-secrets" in links


def test_github_anchors_follow_github_slugger():
    # Expected values as github.com names these headings (github-slugger's own test cases' rules).
    assert github_anchor("Django's `SECRET_KEY`") == "djangos-secret_key"
    assert github_anchor("1. Identify") == "1-identify"
    assert github_anchor("`KIBANA_SYSTEM_PASSWORD`, `LOGSTASH_WRITER_PASSWORD` and `ALERTING_PASSWORD`") == (
        "kibana_system_password-logstash_writer_password-and-alerting_password"
    )


def test_every_drill_the_runbook_runs_exists_and_each_scenario_is_rehearsed_in_its_rules_section(runbook):
    drills = [args for args in commands_after("make", shell_texts(runbook)) if args[0] == "drill"]
    scenarios = {value.removeprefix("SCENARIO=") for args in drills for value in args if value.startswith("SCENARIO=")}
    assert scenarios == set(SCENARIOS)
    for scenario in SCENARIOS.values():
        section = runbook.section(rule_headings(runbook)[scenario.rule])
        assert f"make drill SCENARIO={scenario.name}" in section, f"the {scenario.rule} section does not rehearse it"
