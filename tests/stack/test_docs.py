"""The README and the pages of docs/ stay true: checked against the sources, never against themselves.

What the docs must say comes from make itself (`make help`, the Makefile's variables), .env.example,
pyproject.toml's requires-python, the Compose minimums make up checks (scripts/check_compose_version.sh and
the Makefile), the code that reads each variable, tests/tutorial_project's settings and the package README.
Facts checked where they are stated live with their own tests: the latency budget
(test_pipeline_contract.py), the read-position intervals (test_tutorial_lines.py), the traffic command
(tests/app/test_run_app.py), the memory budget (bench/memory_budget.py).
"""

import ast
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import global_settings

from stack_profile import MIN_MAX_MAP_COUNT
from tests.support.compose import GIB, PROFILES
from tests.support.fake_certutil import parse_instances
from tests.support.makefile import help_targets
from tests.support.markdown import Document, unresolved_links
from tests.support.paths import (
    CERT_INSTANCES_DIR,
    DOCS_DIR,
    ENV_EXAMPLE,
    MAKEFILE,
    PACKAGE_README,
    README_PATH,
    REPO_ROOT,
    SCRIPTS_DIR,
    TUTORIAL_PROJECT_DIR,
)

PAGES = [README_PATH, *sorted(DOCS_DIR.glob("*.md"))]
CONFIGURATION_PAGE = DOCS_DIR / "configuration.md"
# Five minutes of reading: the details are on the pages.
README_MAX_LINES = 280
# Variables GNU make sets itself.
MAKE_OWN_VARIABLES = {"CURDIR", "MAKECMDGOALS", "MAKEFILE_LIST"}
_ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.M)
_VARIABLE_NAME = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(_\*)?")
_MAKE_COMMAND = re.compile(r"(?<![\w-])make ([a-z][a-z-]*)")


def section(document: Document, title: str) -> str:
    [heading] = [heading for heading in document.headings if heading.text == title]
    return document.section(heading)


def table_first_cells(text: str) -> list[str]:
    """The first cell of each body row of the first table in ``text``."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [row.strip("|").split("|")[0].strip() for row in rows[2:]]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def python_fence(text: str) -> str:
    [body] = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)[:1]
    return body


def env_example_variables() -> set[str]:
    """Every variable .env.example sets, or shows commented out to be set (COMPOSE_FILE, OWN_APP_LOG_DIR)."""
    return set(_ASSIGNMENT.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


def code_texts() -> dict[str, str]:
    """The repository's code and config (every file git has or would add, but Markdown and this test), by path."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=True, timeout=60).stdout.splitlines()
    texts = {}
    for name in listed:
        path = REPO_ROOT / name
        if path.suffix == ".md" or path == Path(__file__) or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def code_words() -> set[str]:
    """Every UPPER_SNAKE word in the code and config: what the code can read."""
    return {word for text in code_texts().values() for word in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text)}


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, PACKAGE_README], ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_relative_link_and_its_anchor_resolves(path):
    assert unresolved_links(path) == []


def test_the_readme_links_to_every_page():
    linked = {(README_PATH.parent / target.partition("#")[0]).resolve() for target in Document(README_PATH).links()}
    assert {page.resolve() for page in PAGES[1:]} | {PACKAGE_README.resolve()} <= linked


def test_the_readme_links_to_every_troubleshooting_entry():
    entries = {heading.anchor for heading in Document(DOCS_DIR / "troubleshooting.md").headings if heading.level == 3}
    linked = {target.partition("#")[2] for target in Document(README_PATH).links()
              if target.startswith("docs/troubleshooting.md#")}
    assert entries and linked == entries


# --- make targets and variables -----------------------------------------------------------------


def test_the_readme_make_targets_table_lists_exactly_what_make_help_lists():
    rows = table_first_cells(section(Document(README_PATH), "Make targets"))
    assert sorted(row.removeprefix("`make ").removesuffix("`") for row in rows) == sorted(help_targets())


def test_no_page_names_a_target_make_help_does_not_list():
    targets = set(help_targets())
    for page in PAGES:  # the package README documents no make target
        document = Document(page)
        texts = document.code_spans() + [fence.body for fence in document.fences]
        named = {target for text in texts for target in _MAKE_COMMAND.findall(text)}
        assert named - targets == set(), page.name


def test_every_variable_make_takes_on_its_command_line_is_documented():
    makefile = MAKEFILE.read_text(encoding="utf-8")
    defaulted = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*\?=", makefile, re.M))
    assigned = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[?:+]?=", makefile, re.M))
    only_read = set(re.findall(r"\$\(([A-Z_][A-Z0-9_]*)\)", makefile)) - assigned - MAKE_OWN_VARIABLES
    table = section(Document(CONFIGURATION_PAGE), "make's command-line variables")
    documented = {name for cell in table_first_cells(table) for name in code_spans(cell)}
    assert defaulted >= {"PYTHON", "SCENARIO", "LOG_DIR"} and only_read == {"CONFIRM", "TIME_ZONE"}
    assert documented == defaulted | only_read


# --- .env variables ------------------------------------------------------------------------------


def test_the_configuration_table_documents_exactly_the_variables_of_env_example():
    table = section(Document(CONFIGURATION_PAGE), "`.env`")
    documented = [name for cell in table_first_cells(table) for name in code_spans(cell)]
    assert len(documented) == len(set(documented))
    assert set(documented) == env_example_variables()


def test_the_readme_lists_every_variable_of_env_example_once():
    listed = [name for name in code_spans(section(Document(README_PATH), "Configuration")) if _VARIABLE_NAME.fullmatch(name)]
    assert sorted(listed) == sorted(env_example_variables())


def test_no_page_documents_a_variable_that_nothing_reads():
    """Each UPPER_SNAKE name in code on a page is .env's, a word of the code, or a setting Django reads."""
    known = env_example_variables() | code_words() | set(dir(global_settings))
    for page in PAGES:
        for span in Document(page).code_spans():
            for name, wildcard in _VARIABLE_NAME.findall(span):
                if wildcard:
                    assert any(word.startswith(name + "_") for word in known), f"{page.name}: {name}_*"
                else:
                    assert name in known, f"{page.name}: {name} is in no code and not in .env.example"


# --- the README: short, with the versions stated once -------------------------------------------


def test_the_readme_stays_a_five_minute_read():
    assert len(README_PATH.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES


def test_the_readme_states_the_python_and_compose_minimums_once_as_make_checks_them():
    readme = README_PATH.read_text(encoding="utf-8")
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    [python_minimum] = re.fullmatch(r">=(\d+\.\d+)", requires).groups()
    [compose_minimum] = re.findall(r"^minimum=([\d.]+)$", (SCRIPTS_DIR / "check_compose_version.sh").read_text(), re.M)

    assert re.findall(r"\bPython (\d[\d.]*)", readme) == [python_minimum]
    assert f"Python {python_minimum}+" in readme
    assert re.findall(r"\bCompose (\d[\d.]*) or\s+newer", readme) == [compose_minimum]
    assert len(re.findall(rf"(?<![\d.]){re.escape(compose_minimum)}(?![\d.])", readme)) == 1
    quick_start = " ".join(section(Document(README_PATH), "Quick start").split())
    assert f"Python {python_minimum}+" in quick_start and f"Compose {compose_minimum} or newer" in quick_start


# --- what the README shows is what runs -----------------------------------------------------------


def test_the_readme_shows_the_tutorial_projects_logging_exactly():
    settings = (TUTORIAL_PROJECT_DIR / "tutorial_site" / "settings.py").read_text(encoding="utf-8")
    [assignment] = [node for node in ast.parse(settings).body
                    if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["LOGGING"]]
    log_dir = Path("/srv/logs")
    project = eval(compile(ast.Expression(assignment.value), "settings.py", "eval"), {"LOG_DIR": log_dir})  # noqa: S307
    shown: dict = {"LOG_DIR": log_dir}
    exec(python_fence(section(Document(README_PATH), "The tutorial's `LOGGING`")), shown)  # noqa: S102

    assert shown["LOGGING"] == project


def test_the_readme_shows_the_package_readmes_settings_lines_as_they_are():
    package = python_fence(section(Document(PACKAGE_README), "Switch it on"))
    assert python_fence(section(Document(README_PATH), "The logging package")) == package


# --- messages and comments that name a page's section ---------------------------------------------


def test_every_docs_section_the_code_names_exists():
    """`docs/operations.md, "Profiles"` in a message or a comment names a heading (or a bold label) of that page."""
    pages = {str(page.relative_to(REPO_ROOT)): page for page in [*PAGES, PACKAGE_README]}
    named = re.compile(r"((?:docs/[a-z-]+|django-elk-logging/README|README)\.md|README)[,:] \\?\"([^\"\\]+)\\?\"")
    found = 0
    for name, text in code_texts().items():
        # Comment marks and line breaks out, so a name wrapped over two comment lines reads as one.
        for page, title in named.findall(" ".join(text.replace("#", " ").split())):
            page = "README.md" if page == "README" else page
            document = Document(pages[page])
            # A heading, or a bold label that opens a paragraph or an item ("**The key leaked**:").
            places = {heading.text for heading in document.headings} | set(re.findall(r"\*\*([^*\n]+?)[.:]?\*\*", document.prose))
            assert title.replace("`", "") in {place.replace("`", "") for place in places}, (
                f"{name} names {page}, {title!r}: no such heading or label")
            found += 1
    assert found


# --- operations the docs give per profile, against the compose files --------------------------------------


def profile_rows(text: str) -> dict[str, list[str]]:
    """The first table's body rows by their first cell (a profile name, backticks removed)."""
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|")][2:]
    return {cells[0].strip().strip("`"): [cell.strip() for cell in cells[1:]] for cells in rows}


def memory_limit_bytes(name: str, service: dict) -> int:
    """A service's memory ceiling as Compose renders it: mem_limit or deploy's limit, in bytes."""
    limit = service.get("mem_limit") or service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
    assert limit, f"{name} has no memory limit: nothing bounds what it takes from Docker's VM"
    return int(limit)


def test_docker_desktop_is_told_to_give_at_least_every_services_memory_limit(rendered):
    rows = profile_rows(section(Document(DOCS_DIR / "operations.md"), "Docker Desktop and WSL 2"))
    assert set(rows) == set(PROFILES)
    for profile, (added_up, setting) in rows.items():
        total = sum(memory_limit_bytes(name, service) for name, service in rendered[profile]["services"].items())
        assert added_up == f"{total / GIB:.2f} GiB", profile
        # Docker Desktop's GB read as 10^9 bytes, the smaller reading: never kinder than the setting.
        [gigabytes] = re.fullmatch(r"at least (\d+) GB", setting).groups()
        assert int(gigabytes) * 10**9 >= total, profile


def test_each_profiles_reset_password_command_reaches_its_node_at_a_name_its_certificate_holds(rendered):
    rows = profile_rows(section(Document(DOCS_DIR / "troubleshooting.md"), "Resetting passwords"))
    assert set(rows) == set(PROFILES)
    for profile, [command] in rows.items():
        words = shlex.split(command.strip("`"))
        assert words[:3] == ["docker", "compose", "exec"] and "bin/elasticsearch-reset-password" in words, profile
        service = words[3]
        assert rendered[profile]["services"][service]["image"].startswith("docker.elastic.co/elasticsearch/"), profile
        assert "healthcheck" in rendered[profile]["services"][service], f"{profile}: {service} is no node"
        # Without --url the tool calls the node's publish address (CommandLineHttpClient.getDefaultURL).
        url = urlsplit(words[words.index("--url") + 1])
        assert url.port == 9200, profile
        if profile == "default":
            assert url.scheme == "http", profile
            continue
        assert url.scheme == "https", profile
        instances = parse_instances((CERT_INSTANCES_DIR / f"{profile}.yml").read_text(encoding="utf-8"))
        [instance] = [instance for instance in instances if instance["name"] == service]
        assert url.hostname in instance["dns"] + instance["ip"], profile


def test_the_reset_password_commands_are_written_once_in_the_troubleshooting_table():
    # Any other copy would miss a profile's node or its --url (the runbook's had both wrong).
    table = section(Document(DOCS_DIR / "troubleshooting.md"), "Resetting passwords")
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        if page.name == "troubleshooting.md":
            text = text.replace(table, "")
        assert "reset-password -" not in text, f"{page.name}: link to troubleshooting.md#resetting-passwords instead"


def test_the_max_map_count_entry_gives_a_lasting_setting_for_each_kind_of_docker_host():
    entry = section(Document(DOCS_DIR / "troubleshooting.md"), "`make up` says `vm.max_map_count` is too low (cluster profile)")
    spans = code_spans(entry)
    # The value make up checks (scripts/stack_profile.py), wherever the entry sets it.
    assert set(re.findall(r"vm\.max_map_count[ =]+(\d+)", entry)) == {str(MIN_MAX_MAP_COUNT)}
    # Linux: read at every boot. WSL 2: the kernel's command line, from .wslconfig. Docker Desktop's VM:
    # a privileged container, said to be lost at its restart.
    assert any(span.startswith("/etc/sysctl.d/") for span in spans)
    assert "%UserProfile%\\.wslconfig" in spans and "[wsl2]" in spans
    assert f'kernelCommandLine = "sysctl.vm.max_map_count={MIN_MAX_MAP_COUNT}"' in spans
    assert f"docker run --rm --privileged alpine sysctl -w vm.max_map_count={MIN_MAX_MAP_COUNT}" in spans
    assert "until Docker Desktop restarts" in " ".join(entry.split())

