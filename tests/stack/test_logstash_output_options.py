"""The pipeline's elasticsearch output uses only options logstash-output-elasticsearch 12.x accepts,
and its `hosts` expands to each profile's nodes (stack_models/logstash_output_options.py)."""

import pytest

from stack_models.logstash_config import parse_config
from stack_models.logstash_options import substitute_environment
from stack_models.logstash_output_options import expand_hosts, option_problems
from tests.support.engines import require_engine
from tests.support.paths import PIPELINE_PATH


def the_output():
    [output] = parse_config(PIPELINE_PATH.read_text(encoding="utf-8"))["output"]
    assert output.name == "elasticsearch"
    return output


def test_every_output_option_is_accepted_and_none_obsolete_or_deprecated():
    output = the_output()
    assert option_problems(output.keys()) == []


def test_the_option_check_names_obsolete_and_unknown_options_with_their_replacement():
    assert option_problems({"ssl", "cacert", "ssl_certificate_verification", "hosts", "sslenabled"}) == [
        "cacert is obsolete in the elasticsearch output 12.x: set ssl_certificate_authorities instead",
        "ssl is obsolete in the elasticsearch output 12.x: set ssl_enabled instead",
        "ssl_certificate_verification is obsolete in the elasticsearch output 12.x: set ssl_verification_mode instead",
        "sslenabled is not an option of the elasticsearch output 12.x",
    ]
    assert option_problems({"http_compression"}) == ["http_compression is deprecated in the elasticsearch output 12.x"]


@pytest.mark.parametrize("value, expected", [
    ("http://a:9200", ["http://a:9200"]),
    (["https://a:9200 https://b:9200", "https://c:9200"], ["https://a:9200", "https://b:9200", "https://c:9200"]),
    ("  https://a:9200   https://b:9200 ", ["https://a:9200", "https://b:9200"]),
])
def test_hosts_are_split_on_whitespace_as_logstash_does(value, expected):
    assert expand_hosts(value) == expected


def test_hosts_split_as_jruby_splits_on_every_character_of_the_whitespace_planes():
    """The model against String#split(' ') on the engine, for each character up to U+30FF (every Unicode
    whitespace character is below U+3001) and U+FEFF; any disagreement fails."""
    engine = require_engine()
    characters = [chr(point) for point in [*range(0x3100), 0xFEFF] if not 0xD800 <= point <= 0xDFFF]
    disagreements = [
        (hex(ord(character)), engine.split_words(text), expand_hosts(text))
        for character in characters
        if engine.split_words(text := f" a{character}b{character}") != expand_hosts(text)
    ]
    assert disagreements == []
    # What the engine showed: U+2028 separates, U+001F does not.
    assert expand_hosts("a\u2028b\x1fc") == ["a", "b\x1fc"]


@pytest.fixture(scope="module")
def logstash_environments(rendered) -> dict[str, dict[str, str]]:
    """Logstash's environment in each profile, as Compose renders it (tests/stack/conftest.py)."""
    return {profile: rendered[profile]["services"]["logstash"]["environment"] for profile in ("default", "tls", "cluster")}


@pytest.mark.parametrize("profile, hosts", [
    ("default", ["http://elasticsearch:9200"]),
    ("tls", ["https://elasticsearch:9200"]),
    ("cluster", ["https://es01:9200", "https://es02:9200", "https://es03:9200"]),
])
def test_each_profiles_hosts_expand_to_exactly_its_nodes(logstash_environments, profile, hosts):
    output = substitute_environment(the_output(), logstash_environments[profile])
    assert expand_hosts(output.get("hosts")) == hosts


@pytest.mark.parametrize("profile, ca_file", [
    ("default", "/etc/pki/tls/certs/ca-bundle.crt"),
    ("tls", "/usr/share/logstash/config/certs/ca/ca.crt"),
    ("cluster", "/usr/share/logstash/config/certs/ca/ca.crt"),
])
def test_the_ca_option_names_the_profiles_ca(logstash_environments, profile, ca_file):
    output = substitute_environment(the_output(), logstash_environments[profile])
    assert output.get("ssl_certificate_authorities") == ca_file


@pytest.mark.parametrize("profile", ["default", "tls", "cluster"])
def test_the_output_verifies_the_certificate_and_the_hostname(logstash_environments, profile):
    output = substitute_environment(the_output(), logstash_environments[profile])
    # Unset means "full" (api_configs.rb: ssl_verification_mode, default 'full'); "none" would trust any server.
    assert output.get("ssl_verification_mode", "full") == "full"
    # TLS stays on as the https:// hosts turn it on: ssl_enabled false would switch it off (api_configs.rb).
    assert output.get("ssl_enabled", True) not in (False, "false")
