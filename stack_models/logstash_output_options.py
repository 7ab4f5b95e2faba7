"""The option names logstash-output-elasticsearch 12.1.6 (Logstash 9's bundled major) accepts and refuses,
and how Logstash expands its `hosts`.

Read from logstash-plugins/logstash-output-elasticsearch at its `version` file 12.1.6:
lib/logstash/plugin_mixins/elasticsearch/api_configs.rb (CONFIG_PARAMS, with its "Obsolete Settings"),
lib/logstash/outputs/elasticsearch.rb (`config :...`), lib/logstash/outputs/elasticsearch/data_stream_support.rb.
logstash-core lib/logstash/config/mixin.rb raises a ConfigurationError for an obsolete option and
rejects an unknown one (validate_check_invalid_parameter_names).
"""

import re

# Runs of what String#split(' ') splits on under JRuby: Unicode whitespace, not U+001C-U+001F.
_RUBY_WHITESPACE = re.compile(r"[^\S\x1c-\x1f]+")

# logstash-core lib/logstash/plugin.rb: every plugin's own.
CORE_OPTIONS = frozenset({"id", "enable_metric"})
# api_configs.rb CONFIG_PARAMS, without its obsolete ones; ca_trusted_fingerprint comes from the
# CATrustedFingerprintSupport mixin it includes.
API_OPTIONS = frozenset({
    "user", "password", "api_key", "cloud_auth", "document_id", "path", "bulk_path", "parameters", "ssl_enabled",
    "ssl_verification_mode", "ssl_certificate_authorities", "ca_trusted_fingerprint", "ssl_truststore_path",
    "ssl_truststore_type", "ssl_truststore_password", "ssl_keystore_path", "ssl_keystore_type",
    "ssl_keystore_password", "ssl_supported_protocols", "ssl_certificate", "ssl_key", "ssl_cipher_suites",
    "sniffing", "sniffing_delay", "sniffing_path", "proxy", "timeout", "failure_type_logging_whitelist",
    "silence_errors_in_log", "pool_max", "pool_max_per_route", "healthcheck_path", "resurrect_delay",
    "validate_after_inactivity", "http_compression", "compression_level", "custom_headers", "hosts", "cloud_id",
    "retry_initial_interval", "retry_max_interval", "dlq_custom_codes", "dlq_on_failed_indexname_interpolation",
    "drop_error_types",
})
# elasticsearch.rb's own `config` lines, and data_stream_support.rb's.
OUTPUT_OPTIONS = frozenset({
    "action", "index", "document_type", "manage_template", "template_name", "template", "template_overwrite",
    "template_api", "version", "version_type", "routing", "parent", "join_field", "upsert", "doc_as_upsert",
    "script", "script_type", "script_lang", "script_var_name", "scripted_upsert", "retry_on_conflict", "pipeline",
    "ilm_enabled", "ilm_rollover_alias", "ilm_pattern", "ilm_policy",
    "data_stream", "data_stream_type", "data_stream_dataset", "data_stream_namespace", "data_stream_sync_fields",
    "data_stream_auto_routing",
})
ACCEPTED = CORE_OPTIONS | API_OPTIONS | OUTPUT_OPTIONS
# api_configs.rb "Obsolete Settings": Logstash refuses to start with any of them, naming the replacement.
OBSOLETE = {
    "ssl": "ssl_enabled",
    "ssl_certificate_verification": "ssl_verification_mode",
    "cacert": "ssl_certificate_authorities",
    "truststore": "ssl_truststore_path",
    "keystore": "ssl_keystore_path",
    "truststore_password": "ssl_truststore_password",
    "keystore_password": "ssl_keystore_password",
}
# Accepted with a deprecation warning (api_configs.rb, elasticsearch.rb).
DEPRECATED = frozenset({"http_compression", "document_type", "failure_type_logging_whitelist"})


def option_problems(names: set[str]) -> list[str]:
    """Why Logstash would refuse or warn about each option name, sorted; empty when all are fine."""
    problems = []
    for name in sorted(names):
        if name in OBSOLETE:
            problems.append(f"{name} is obsolete in the elasticsearch output 12.x: set {OBSOLETE[name]} instead")
        elif name not in ACCEPTED:
            problems.append(f"{name} is not an option of the elasticsearch output 12.x")
        elif name in DEPRECATED:
            problems.append(f"{name} is deprecated in the elasticsearch output 12.x")
    return problems


def expand_hosts(value: str | list[str]) -> list[str]:
    """`hosts` after Logstash's :uri_list validation: each string entry split on whitespace.

    logstash-core lib/logstash/config/mixin.rb: a `:validate => :uri, :list => true` option is
    validated as :uri_list, which flat_maps `entry.split(' ')` (Ruby's awk-style split: runs of
    whitespace, leading and trailing ones dropped). JRuby's whitespace is Python's but for the
    separators U+001C-U+001F; tests/stack/test_logstash_output_options.py checks it on the engine."""
    entries = [value] if isinstance(value, str) else value
    return [uri for entry in entries for uri in _RUBY_WHITESPACE.split(entry) if uri]
