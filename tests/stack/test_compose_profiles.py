"""The stack's profiles (default, tls, cluster; each also in own-app mode), as the real Compose v2
parser reads them when COMPOSE_FILE selects them, the way .env or the environment does.

The certificates' layout is elasticsearch-certutil's --pem one that docker-compose.tls.yml names:
ca/ca.crt, <name>/<name>.crt, <name>/<name>.key in the certs volume.
"""

import json
import re
import shlex
import shutil
from dataclasses import dataclass

import pytest

import stack_profile
from tests.support.compose import (
    COMBINATIONS,
    DUMMY_SECRETS,
    GIB,
    MIB,
    PROFILES,
    SAMPLE_APP,
    combination_services,
    compose_file_value,
    env_with,
    mounts,
    run_compose,
    run_selecting,
)
from tests.support.fake_certutil import parse_instances
from tests.support.paths import CERT_INSTANCES_DIR

NODES = {"default": ("elasticsearch",), "tls": ("elasticsearch",), "cluster": ("es01", "es02", "es03")}
ONE_SHOTS = {"setup", "certs"}
# Long-running memory limits, written out: ES 1g per node, Kibana 1g, Logstash 768m, app 256m, logrotate 32m.
LONG_RUNNING_TOTAL = {
    "default": 2 * GIB + 768 * MIB + 256 * MIB + 32 * MIB,
    "tls": 2 * GIB + 768 * MIB + 256 * MIB + 32 * MIB,
    "cluster": 4 * GIB + 768 * MIB + 256 * MIB + 32 * MIB,
}
# Where each consumer mounts the certs volume (read-only), and so where its CA is.
CERTS_TARGET = {
    "elasticsearch": "/usr/share/elasticsearch/config/certs",
    "kibana": "/usr/share/kibana/config/certs",
    "logstash": "/usr/share/logstash/config/certs",
    "setup": "/certs",
}
ES_CONFIG_DIR = "/usr/share/elasticsearch/config"
# Every node reads the repository's elasticsearch.yml (cluster.name and the rest), read-only.
ES_CONFIG_MOUNT = ("bind", "elasticsearch/config/elasticsearch.yml", f"{ES_CONFIG_DIR}/elasticsearch.yml", True)
# Who waits for whom, and for what, written out per profile. Kibana and setup wait for the published
# node; in the cluster nothing waits for the disabled single node.
SINGLE_NODE_DEPENDS_ON = {
    "kibana": {"elasticsearch": "service_healthy"},
    "setup": {"elasticsearch": "service_healthy", "kibana": "service_started"},
    "logstash": {"setup": "service_completed_successfully"},
}
DEPENDS_ON = {
    "default": SINGLE_NODE_DEPENDS_ON,
    "tls": {**SINGLE_NODE_DEPENDS_ON, "elasticsearch": {"certs": "service_completed_successfully"}},
    "cluster": {
        "kibana": {"es01": "service_healthy"},
        "setup": {"es01": "service_healthy", "kibana": "service_started"},
        "logstash": {"setup": "service_completed_successfully"},
        **{node: {"certs": "service_completed_successfully"} for node in ("es01", "es02", "es03")},
    },
}

each_combination = pytest.mark.parametrize("combination", list(COMBINATIONS))
each_profile = pytest.mark.parametrize("profile", list(PROFILES))
tls_profiles = pytest.mark.parametrize("profile", ["tls", "cluster"])


# --- selection ------------------------------------------------------------------------------------


@each_combination
def test_compose_file_selects_a_combination_the_parser_accepts(home, env_file, combination):
    result = run_selecting(home, env_file, COMBINATIONS[combination], "config", "-q")
    assert (result.returncode, result.stderr) == (0, "")


@each_combination
def test_a_compose_file_line_in_env_selects_the_combination(home, tmp_path, combination):
    for path in COMBINATIONS[combination]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "logs").mkdir()
    line = f"COMPOSE_FILE={compose_file_value(COMBINATIONS[combination])}\nOWN_APP_LOG_DIR=./logs\n"
    (tmp_path / ".env").write_text(env_with(DUMMY_SECRETS) + line, encoding="utf-8")
    result = run_compose(home, "config", "--services", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == combination_services(combination)


@each_combination
def test_each_combination_has_its_profiles_services(rendered, combination):
    assert set(rendered[combination]["services"]) == combination_services(combination)


@each_combination
def test_kibanas_label_names_the_profile_stack_profile_gives_for_compose_file(rendered, combination):
    profile = stack_profile.profile_of(compose_file_value(COMBINATIONS[combination]))
    assert profile.name == combination.partition("+")[0]
    assert rendered[combination]["services"]["kibana"]["labels"] == {"org.django-elk.profile": profile.name}


# --- TLS --------------------------------------------------------------------------------------------


@tls_profiles
def test_every_node_has_http_and_transport_tls_with_its_own_files_from_the_certs_layout(rendered, profile):
    services = rendered[profile]["services"]
    for node in NODES[profile]:
        environment = services[node]["environment"]
        for layer in ("http", "transport"):
            prefix = f"xpack.security.{layer}.ssl"
            assert environment[f"{prefix}.enabled"] == "true", (node, layer)
            assert environment[f"{prefix}.key"] == f"certs/{node}/{node}.key", (node, layer)
            assert environment[f"{prefix}.certificate"] == f"certs/{node}/{node}.crt", (node, layer)
            assert environment[f"{prefix}.certificate_authorities"] == "certs/ca/ca.crt", (node, layer)
        # The chain, not the hostname: nodes reach each other by IP, which no certificate names; "none"
        # would trust any peer. HTTP keeps Elasticsearch's own default.
        assert environment["xpack.security.transport.ssl.verification_mode"] == "certificate", node
        assert "xpack.security.http.ssl.verification_mode" not in environment, node
        # Relative to the config directory, where the certs volume is mounted read-only.
        assert ("volume", "certs", f"{ES_CONFIG_DIR}/certs", True) in mounts(services[node]), node


@tls_profiles
def test_every_node_is_an_instance_of_the_profiles_certificates(rendered, profile):
    instances = parse_instances((CERT_INSTANCES_DIR / f"{profile}.yml").read_text(encoding="utf-8"))
    assert {instance["name"] for instance in instances} == {*NODES[profile], "kibana"}
    assert rendered[profile]["services"]["certs"]["environment"]["CERT_INSTANCES_FILE"] == (
        f"/usr/share/elasticsearch/setup-certs/instances/{profile}.yml"
    )


@tls_profiles
def test_every_client_reaches_every_node_over_https_and_verifies_the_ca(rendered, profile):
    services = rendered[profile]["services"]
    urls = [f"https://{node}:9200" for node in NODES[profile]]
    kibana, setup, logstash = (services[name]["environment"] for name in ("kibana", "setup", "logstash"))
    assert json.loads(kibana["ELASTICSEARCH_HOSTS"]) == urls
    assert kibana["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"] == f"{CERTS_TARGET['kibana']}/ca/ca.crt"
    assert kibana["ELASTICSEARCH_SSL_VERIFICATIONMODE"] == "full"
    assert setup["ELASTICSEARCH_URL"].split(",") == urls
    assert setup["TLS_CA_FILE"] == f"{CERTS_TARGET['setup']}/ca/ca.crt"
    assert setup["KIBANA_URL"] == "https://kibana:5601"
    assert logstash["ELASTICSEARCH_HOSTS"].split(" ") == urls
    assert logstash["ELASTICSEARCH_CA_FILE"] == f"{CERTS_TARGET['logstash']}/ca/ca.crt"
    # Kibana serves HTTPS with its own certificate.
    assert kibana["SERVER_SSL_ENABLED"] == "true"
    assert kibana["SERVER_SSL_CERTIFICATE"] == f"{CERTS_TARGET['kibana']}/kibana/kibana.crt"
    assert kibana["SERVER_SSL_KEY"] == f"{CERTS_TARGET['kibana']}/kibana/kibana.key"
    assert kibana["SERVER_PUBLICBASEURL"] == "https://localhost:5601"


def test_the_default_profile_has_no_tls_and_no_certs_volume(rendered):
    config = rendered["default"]
    assert "certs" not in config["volumes"] and "certs-ca" not in config["volumes"]
    assert "https" not in json.dumps(config["services"])
    environment = config["services"]["elasticsearch"]["environment"]
    assert (environment["xpack.security.http.ssl.enabled"], environment["xpack.security.transport.ssl.enabled"]) == (
        "false", "false"
    )


@tls_profiles
def test_certificates_are_read_only_everywhere_but_in_certs_and_only_certs_has_the_ca_key(rendered, profile):
    services = rendered[profile]["services"]
    holders = {
        name: {(volume["source"], volume.get("read_only", False)) for volume in service.get("volumes", [])
               if volume["type"] == "volume" and volume["source"] in ("certs", "certs-ca")}
        for name, service in services.items()
    }
    consumers = {*NODES[profile], "kibana", "logstash", "setup"}
    assert holders == {
        "certs": {("certs", False), ("certs-ca", False)},
        **{name: {("certs", True)} for name in consumers},
        **{name: set() for name in SAMPLE_APP},
    }
    for name in consumers - set(NODES[profile]):
        assert ("volume", "certs", CERTS_TARGET[name], True) in mounts(services[name]), name


@dataclass(frozen=True)
class CurlCall:
    flags: frozenset[str]
    options: dict[str, str]
    urls: tuple[str, ...]


# The curl options the healthchecks use that take a value (curl's man page); any other is read as a flag.
CURL_VALUE_OPTIONS = {"-o", "-u", "-K", "--cacert", "--max-time"}
SHELL_OPERATORS = {"|", "||", "&&", ";", "&"}


def curl_call(shell_command: str) -> CurlCall:
    """The one curl invocation of a CMD-SHELL healthcheck, split into its arguments as sh and curl read them.

    A short-option cluster ("-fsSk") counts as its single letters, so a hidden -k shows up as a flag."""
    lexer = shlex.shlex(shell_command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    assert words.count("curl") == 1, shell_command
    flags, options, urls = set(), {}, []
    arguments = iter(words[words.index("curl") + 1:])
    for word in arguments:
        if word in SHELL_OPERATORS:
            break
        if word.startswith("--"):
            if word in CURL_VALUE_OPTIONS:
                options[word] = next(arguments)
            else:
                flags.add(word)
        elif word.startswith("-"):
            for position, letter in enumerate(word[1:], start=1):
                if f"-{letter}" in CURL_VALUE_OPTIONS:
                    # curl takes the rest of the cluster, or else the next word, as the value.
                    options[f"-{letter}"] = word[position + 1:] or next(arguments)
                    break
                flags.add(f"-{letter}")
        else:
            urls.append(word)
    return CurlCall(frozenset(flags), options, tuple(urls))


@pytest.mark.parametrize("command, expected", [
    ("curl -fsSk https://a", CurlCall(frozenset({"-f", "-s", "-S", "-k"}), {}, ("https://a",))),
    ("curl -s --insecure https://a | grep -q x", CurlCall(frozenset({"-s", "--insecure"}), {}, ("https://a",))),
    ("curl -fo/dev/null -u 'e:p w' --cacert c.crt https://a && true",
     CurlCall(frozenset({"-f"}), {"-o": "/dev/null", "-u": "e:p w", "--cacert": "c.crt"}, ("https://a",))),
])
def test_curl_call_reads_clusters_values_and_urls_as_curl_does(command, expected):
    assert curl_call(command) == expected


NODE_HEALTHCHECK = CurlCall(
    frozenset({"-f", "-s", "-S"}),
    # Relative to the image's working directory, /usr/share/elasticsearch: the certs volume's CA.
    # -K -: the credentials come on its standard input (tests/stack/test_compose_secrets.py).
    {"-o": "/dev/null", "--cacert": "config/certs/ca/ca.crt", "-K": "-"},
    ("https://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s",),
)
KIBANA_HEALTHCHECK = CurlCall(
    frozenset({"-s", "-S"}),
    {"--max-time": "8", "--cacert": "/usr/share/kibana/config/certs/ca/ca.crt"},
    ("https://localhost:5601/api/status",),
)


@tls_profiles
def test_every_https_healthcheck_verifies_the_ca_and_none_skips_verification(rendered, profile):
    services = rendered[profile]["services"]
    calls = {name: curl_call(service["healthcheck"]["test"][1]) for name, service in services.items()
             if "curl" in json.dumps(service.get("healthcheck", {}).get("test", []))}
    assert calls == {
        **{node: NODE_HEALTHCHECK for node in NODES[profile]},
        "kibana": KIBANA_HEALTHCHECK,
        # Logstash's is logstash/healthcheck.sh (tests/stack/test_logstash_healthcheck.py).
    }
    # Nothing else (commands, entrypoints) turns verification off either.
    assert not re.search(r"(?<![\w-])(-k|--insecure)(?![\w-])", json.dumps(services))


# --- dependencies and node settings -------------------------------------------------------------------


@each_combination
def test_every_service_waits_for_exactly_what_it_needs(rendered, combination):
    services = rendered[combination]["services"]
    found = {name: {other: wait["condition"] for other, wait in service["depends_on"].items()}
             for name, service in services.items() if service.get("depends_on")}
    assert found == DEPENDS_ON[combination.partition("+")[0]]


@each_combination
def test_every_node_reads_the_repositorys_elasticsearch_yml_and_keeps_the_default_roles(rendered, combination):
    services = rendered[combination]["services"]
    for node in NODES[combination.partition("+")[0]]:
        assert ES_CONFIG_MOUNT in mounts(services[node]), node
        # Every node is master-eligible and holds data: any one may stop (docker-compose.cluster.yml).
        assert "node.roles" not in services[node]["environment"], node


@each_combination
def test_kibana_keeps_its_data_folder_and_instance_uuid_in_a_named_volume(rendered, combination):
    # Kibana writes its instance UUID to path.data/uuid (resolve_uuid.ts); task manager and alerting tie
    # their state to it. A volume of the project, not external: make clean (down --volumes) removes it.
    config = rendered[combination]
    assert ("volume", "kibana-data", "/usr/share/kibana/data", False) in mounts(config["services"]["kibana"])
    assert "external" not in config["volumes"]["kibana-data"]


@each_combination
def test_every_node_may_open_the_65535_files_elasticsearchs_bootstrap_check_asks(rendered, combination):
    # BootstrapChecks.java, FileDescriptorCheck (65535); nothing left to the Docker daemon's default.
    services = rendered[combination]["services"]
    for node in NODES[combination.partition("+")[0]]:
        assert services[node]["ulimits"] == {"nofile": {"soft": 65535, "hard": 65535}}, node


# --- replicas, ports, discovery, memory -------------------------------------------------------------------


@each_combination
def test_setup_gives_replicas_only_where_another_node_can_hold_them(rendered, combination):
    expected = {"default": "0", "tls": "0", "cluster": "1"}[combination.partition("+")[0]]
    assert rendered[combination]["services"]["setup"]["environment"]["INDEX_REPLICAS"] == expected


@each_combination
def test_ports_bind_to_loopback_and_one_node_publishes_9200(rendered, combination):
    services = rendered[combination]["services"]
    published = {(name, port["host_ip"], port["published"], port["target"])
                 for name, service in services.items() for port in service.get("ports", [])}
    profile, _, own_app = combination.partition("+")
    node = NODES[profile][0]
    expected = {(node, "127.0.0.1", "9200", 9200), ("kibana", "127.0.0.1", "5601", 5601)}
    assert published == expected | (set() if own_app else {("app", "127.0.0.1", "8000", 8000)})


def test_cluster_nodes_discover_exactly_each_other_under_their_own_names(rendered):
    services = rendered["cluster"]["services"]
    for node in NODES["cluster"]:
        environment = services[node]["environment"]
        assert environment["node.name"] == node
        assert environment["discovery.seed_hosts"].split(",") == ["es01", "es02", "es03"]
        assert environment["cluster.initial_master_nodes"].split(",") == ["es01", "es02", "es03"]
        assert "discovery.type" not in environment, node
        assert ("volume", f"{node}-data", "/usr/share/elasticsearch/data", False) in mounts(services[node])
    assert {"es01-data", "es02-data", "es03-data"} <= set(rendered["cluster"]["volumes"])


@each_profile
def test_long_running_memory_matches_the_budget_tables(rendered, profile):
    services = rendered[profile]["services"]
    total = sum(int(service["mem_limit"]) for name, service in services.items() if name not in ONE_SHOTS)
    assert total == LONG_RUNNING_TOTAL[profile]
