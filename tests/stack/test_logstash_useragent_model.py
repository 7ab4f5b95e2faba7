"""The useragent filter model (stack_models/logstash_useragent.py, uap_parser.py, uap_rules.py) against the
plugin's own expectations: logstash-plugins/logstash-filter-useragent 3.3.5 spec/filters/useragent_spec.rb,
its ECS-mode branch (config `source => "message" target => "ua"`), where a case exists there, else the
source line the model cites.
"""

from pathlib import Path

import pytest

from stack_models.grok import PYGROK_PATTERNS_DIR, load_patterns
from stack_models.logstash_events import Event
from stack_models.logstash_pipeline import Pipeline
from stack_models.uap_rules import DEVICE_RULES, OS_RULES, USER_AGENT_RULES

PATTERNS = load_patterns(PYGROK_PATTERNS_DIR)
METADATA = ("@metadata", "filter", "user_agent")


def useragent(tmp_path: Path, options: str = 'source => "message" target => "ua"') -> Pipeline:
    config = tmp_path / "test.conf"
    config.write_text(f"filter {{ useragent {{ {options} }} }}")
    return Pipeline(PATTERNS, {}, path=config)


def parsed(tmp_path: Path, agent) -> Event:
    return useragent(tmp_path).filter(Event({"message": agent}))


@pytest.mark.parametrize(("agent", "expected"), [
    ("Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.31 (KHTML, like Gecko) Chrome/26.0.1410.63 Safari/537.31",
     {"name": "Chrome", "version": "26.0.1410.63", "device": {"name": "Other"}, "os": {"name": "Linux", "full": "Linux"}}),
    ("MacOutlook/16.24.0.190414 (Intelx64 Mac OS X Version 10.14.4 (Build 18E226))",
     {"name": "MacOutlook", "version": "16.24.0.190414", "device": {"name": "Mac"},
      "os": {"name": "Mac OS X", "version": "10.14.4", "full": "Mac OS X 10.14.4"}}),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Safari/605.1.15",
     {"name": "Safari", "version": "12.0", "device": {"name": "Mac"},
      "os": {"name": "Mac OS X", "version": "10.14", "full": "Mac OS X 10.14"}}),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.11; rv:45.0) Gecko/20100101 Firefox/45.0",
     {"name": "Firefox", "version": "45.0", "device": {"name": "Mac"},
      "os": {"name": "Mac OS X", "version": "10.11", "full": "Mac OS X 10.11"}}),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.90 Safari/537.36 Edg/89.0.774.50",
     {"name": "Edge", "version": "89.0.774.50", "device": {"name": "Other"},
      "os": {"name": "Windows", "version": "10", "full": "Windows 10"}}),
])
def test_browsers_as_the_plugin_spec_expects(tmp_path, agent, expected):
    # The spec checks these fields one by one; no other field is under the target.
    assert parsed(tmp_path, agent)["ua"] == expected


def test_version_parts_go_to_metadata(tmp_path):
    chrome = parsed(tmp_path, "Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.31 (KHTML, like Gecko) Chrome/26.0.1410.63 Safari/537.31")
    assert chrome.get_field(METADATA) == {"version": {"major": "26", "minor": "0", "patch": "1410"}}
    safari = parsed(tmp_path, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Safari/605.1.15")
    assert safari.get_field(METADATA + ("os",)) == {"version": {"major": "10", "minor": "14"}}


@pytest.mark.parametrize(("agent", "name", "os_version"), [
    ("Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)", None, "Vista"),  # spec "IE7 Vista"
    ("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 1.1.4322; .NET CLR 2.0.50727; .NET CLR 3.5.30729)",
     "IE", "XP"),  # spec "IE8 XP"
    ("Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246",
     "Edge", "8.1"),  # spec "Windows 8.1"
])
def test_windows_versions_are_named(tmp_path, agent, name, os_version):
    ua = parsed(tmp_path, agent)["ua"]
    assert (ua["os"]["name"], ua["os"]["version"], ua["device"]["name"]) == ("Windows", os_version, "Other")
    if name is not None:
        assert ua["name"] == name


def test_a_named_os_version_is_joined_by_a_space(tmp_path):
    # build_os_version: "Vista" is no integer, so a minor would follow a space; os.full is "<name> <version>".
    assert parsed(tmp_path, "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)")["ua"]["os"]["full"] == "Windows Vista"


def test_an_unknown_agent_is_other_everywhere(tmp_path):
    # useragent.rb set_fields skips nothing for "Other" (UserAgentParser.OTHER, OSParser's and DeviceParser's
    # "Other"); no version, so nothing under @metadata.
    assert parsed(tmp_path, "zzz") == {"message": "zzz", "ua": {"name": "Other", "device": {"name": "Other"},
                                                                "os": {"name": "Other", "full": "Other"}}}


def test_nested_target_and_an_app(tmp_path):
    # spec "nested target field": the Facebook app on an iPhone, at [foo][bar].
    agent = ("Mozilla/5.0 (iPhone; CPU iPhone OS 13_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone11,8;FBMD/iPhone;FBSN/iOS;FBSV/13.3.1;FBSS/2;FBID/phone;FBLC/en_US;FBOP/5;FBCR/]")
    event = useragent(tmp_path, 'source => "message" target => "[foo][bar]"').filter(Event({"message": agent}))
    assert event["foo"]["bar"]["name"] == "Facebook"


def test_text_around_the_agent(tmp_path):
    # spec "non-exact UA data" (its legacy branch names the same values).
    ua = parsed(tmp_path, "Prefix DATA! Mozilla/5.0 (Android 11; Mobile; rv:68.0) Gecko/68.0 Firefox/86.0")["ua"]
    assert (ua["name"], ua["version"], ua["os"]["name"]) == ("Firefox Mobile", "86.0", "Android")


@pytest.mark.parametrize("fields", [{"foo": "bar"}, {"message": ""}, {"message": []}])
def test_no_agent_sets_nothing(tmp_path, fields):
    # spec "without user agent"; useragent.rb filter: `return if useragent.nil? || useragent.empty?`.
    assert useragent(tmp_path, 'source => "message" target => "ua" add_tag => ["parsed"]').filter(Event(fields)) == fields


def test_an_array_gives_its_first_agent_and_the_common_options_apply(tmp_path):
    event = useragent(tmp_path, 'source => "message" target => "ua" add_tag => ["parsed"]').filter(Event({"message": ["curl/8.5.0", "x"]}))
    assert (event["ua"]["name"], event["ua"]["version"], event["tags"]) == ("curl", "8.5.0", ["parsed"])


def test_the_bundled_rules_are_uap_core_v0_12_0s(tmp_path):
    # regexes.yaml at ua-parser/uap-core v0.12.0: 336 user agent, 174 OS and 619 device rules; the Mac OS X
    # rule as build.gradle patches it.
    assert (len(USER_AGENT_RULES), len(OS_RULES), len(DEVICE_RULES)) == (336, 174, 619)
    assert r"Mac OS X\s.{1,50}?\s(\d+).(\d+).(\d+)" in {rule.regex for rule in OS_RULES}
    # A rule uap-core added after v0.12.0 (HTTrack, v0.15.0) is not there: the crawler is "Other".
    assert parsed(tmp_path, "Mozilla/4.5 (compatible; HTTrack 3.0x; Windows 98)")["ua"]["name"] == "Other"


@pytest.mark.parametrize("options", [
    'source => "message"',
    'source => "message" target => "ua" regexes => "/tmp/regexes.yaml"',
    'source => "message" target => "ua" prefix => "ua_"',
    'source => "message" target => "ua" ecs_compatibility => "disabled"',
])
def test_unmodelled_options_are_refused(tmp_path, options):
    with pytest.raises(NotImplementedError):
        useragent(tmp_path, options).filter(Event({"message": "curl/8.5.0"}))


def test_java_line_terminators_are_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="line terminators"):
        parsed(tmp_path, "curl/8.5.0\r")
