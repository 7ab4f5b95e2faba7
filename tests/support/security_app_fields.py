"""Which fields Kibana's Security Explore pages and Discover's logs profile query: facts read in elastic/kibana's
source, pinned here so the tests and docs/elastic-apps.md can say which page shows which of our events.

Read with the stored-code index of elastic/kibana (main-branch 9.x layout, x-pack/solutions/security/...): the
index keeps files at the blob commits named below, not at release tags, so each fact names the file and the commit
it was read at. The stack runs Kibana 9.5 (.env.example's ELASTIC_VERSION); a fact that differs between the stored
versions says so. Facts only: what our documents carry is the tests' business.
"""

from dataclasses import dataclass

SECURITY_PLUGIN = "x-pack/solutions/security/plugins/security_solution"
SEARCH_FACTORY = f"{SECURITY_PLUGIN}/server/search_strategy/security_solution/factory"


@dataclass(frozen=True)
class Page:
    """One table or tab: the condition a document must meet to be counted there (beyond the time range on
    @timestamp that every page applies), the fields it groups or sorts by, and those it only displays."""

    title: str
    requires: tuple[str, ...]  # an exists/term filter or the terms aggregation's key: no value, no row
    keyed_by: tuple[str, ...]  # the fields the rows are grouped by or counted on
    displays: tuple[str, ...]  # columns filled from the newest hit, or sums; empty when absent
    filter_terms: tuple[tuple[str, str], ...] = ()  # term filters the page adds: (field, value)
    sources: tuple[str, ...] = ()


PAGES = {
    # The Users page's Authentications tab; the Hosts page has no such tab any more (hosts_tabs.tsx below).
    "users_authentications": Page(
        title="Users > Authentications",
        filter_terms=(("event.category", "authentication"),),
        requires=("event.category", "user.name", "@timestamp"),
        # stack_by terms on user.name (AuthStackByField.userName); sub-aggregations filter event.outcome
        # failure and success, each with the newest hit's fields.
        keyed_by=("user.name", "event.outcome"),
        displays=("source.ip", "host.name", "host.id"),
        sources=(
            f"{SEARCH_FACTORY}/users/authentications/dsl/query.dsl.ts @ 86b5f4b2750e618b5cac323e9c52e5a0d3b23eae",
            # authenticationsFields = ['timestamp', 'source.ip', 'host.id', 'host.name'] (the new layout's
            # helpers.ts is not stored; this is the x-pack/plugins layout's copy of it)
            "x-pack/plugins/security_solution/server/search_strategy/security_solution/factory/users/"
            "authentications/helpers.ts @ 93739ee1f508b545a32fe3d85e724345aa2e8955",
            f"{SECURITY_PLUGIN}/common/search_strategy/security_solution/users/authentications/index.ts "
            "@ fdfeb2bb4dc128420f22ebdb5cffa598b93cd102",
            f"{SECURITY_PLUGIN}/public/explore/components/authentication/authentications_user_table.tsx "
            "@ 05d93d08bbd8bd5dcda5f0c347af4f5eb683c475",
            # the histogram above the table stacks by event.outcome
            f"{SECURITY_PLUGIN}/public/explore/components/authentication/helpers.tsx "
            "@ 553372c4fd1fb07e2af69feb5fa2c3f1bea87b72",
        ),
    ),
    "users_all": Page(
        title="Users > All users",
        requires=("user.name", "@timestamp"),
        keyed_by=("user.name",),
        displays=("user.domain",),
        sources=(f"{SEARCH_FACTORY}/users/all/query.all_users.dsl.ts @ 265d1e29fc76f4b6cdc3a080d06652978f86578f",),
    ),
    "users_events": Page(
        title="Users > Events",
        requires=("user.name", "@timestamp"),  # userNameExistsFilter
        keyed_by=(),
        displays=(),
        sources=(f"{SECURITY_PLUGIN}/public/explore/users/pages/users.tsx @ 05febbc5b30113c821447021d6bc8a73b61f2b95",
                 f"{SECURITY_PLUGIN}/public/explore/users/pages/users_tabs.tsx "
                 "@ 85625263da97c0c015b7ea7d546af9cd17dc8230"),
    ),
    "hosts_all": Page(
        title="Hosts > All hosts",
        requires=("host.name", "@timestamp"),
        keyed_by=("host.name",),
        displays=("host.os.name", "host.os.version", "host.id", "host.risk.calculated_level", "asset.criticality"),
        sources=(f"{SEARCH_FACTORY}/hosts/all/query.all_hosts.dsl.ts @ 3008bf6de9147f8d0dfae2e9b9d79828eb24262c",
                 f"{SEARCH_FACTORY}/hosts/all/helpers.ts @ 6f111987e22cf3be12568f54412deeadda22fda3"),
    ),
    "hosts_events": Page(
        title="Hosts > Events",
        requires=("host.name", "@timestamp"),  # fieldNameExistsFilter(SecurityPageName.hosts): exists host.name
        keyed_by=(),
        displays=(),
        sources=(f"{SECURITY_PLUGIN}/public/explore/hosts/pages/hosts.tsx @ 05febbc5b30113c821447021d6bc8a73b61f2b95",
                 f"{SECURITY_PLUGIN}/public/common/components/visualization_actions/utils.ts "
                 "@ 49351a87df964ccdd29948dadafe4f8b40d93d67"),
    ),
    # Network > Flows, "Source IPs" table (flowTarget source): terms on source.ip, no filter on destination.
    "network_source_ips": Page(
        title="Network > Flows > Source IPs",
        requires=("source.ip", "@timestamp"),
        keyed_by=("source.ip",),
        # bytes_in/out sums, domain terms, geo and as top hits, flows = cardinality of network.community_id,
        # destination_ips = cardinality of destination.ip
        displays=("destination.bytes", "source.bytes", "source.domain", "source.geo", "source.as",
                  "network.community_id", "destination.ip"),
        sources=(f"{SEARCH_FACTORY}/network/top_n_flow/query.top_n_flow_network.dsl.ts "
                 "@ 0c4e871d30e6467ea5e709394e7282b5afa32ecd",),
    ),
    "network_destination_ips": Page(
        title="Network > Flows > Destination IPs",
        requires=("destination.ip", "@timestamp"),
        keyed_by=("destination.ip",),
        displays=("source.bytes", "destination.bytes", "destination.domain", "destination.geo", "destination.as",
                  "network.community_id", "source.ip"),
        sources=(f"{SEARCH_FACTORY}/network/top_n_flow/query.top_n_flow_network.dsl.ts "
                 "@ 0c4e871d30e6467ea5e709394e7282b5afa32ecd",),
    ),
    "network_http": Page(
        title="Network > HTTP",
        # exists http.request.method; terms on url.path, which a wildcard field serves from its binary doc values
        # (elastic/elasticsearch x-pack/plugin/wildcard/.../WildcardFieldMapper.java fielddataBuilder,
        # @ 0021214aaf93fa7cf05fed02e7eb75e41959d6c8: StringBinaryIndexFieldData as a KEYWORD values source)
        requires=("http.request.method", "url.path", "@timestamp"),
        keyed_by=("url.path",),
        displays=("http.request.method", "url.domain", "http.response.status_code", "host.name", "source.ip"),
        sources=(f"{SEARCH_FACTORY}/network/http/query.http_network.dsl.ts @ 769627e647f7cea8a8a408c2ca8edae644a6d530",),
    ),
    "network_events": Page(
        title="Network > Events",
        # sourceOrDestinationIpExistsFilter: exists source.ip OR exists destination.ip; source.ip alone suffices
        requires=("source.ip", "@timestamp"),
        keyed_by=(),
        displays=(),
        sources=(f"{SECURITY_PLUGIN}/public/explore/network/pages/network.tsx "
                 "@ 08515e735ac2d3a8ee0bee979f95742800e44ae6",
                 f"{SECURITY_PLUGIN}/public/common/components/visualization_actions/utils.ts "
                 "@ 49351a87df964ccdd29948dadafe4f8b40d93d67"),
    ),
}

# The Hosts page's tabs: hosts, risk, uncommonProcesses, anomalies, events, sessions; no authentications
# (public/explore/hosts/pages/hosts_tabs.tsx @ 501e428d671edb377a161ade04dfd0c98fed6603).

# Security's data view: the advanced setting and its default patterns (constants.ts
# @ 007b90db6bc7e01d0e0e68f63a391f099fe7af14, DEFAULT_INDEX_KEY and DEFAULT_INDEX_PATTERN).
SECURITY_DEFAULT_INDEX_SETTING = "securitySolution:defaultIndex"
SECURITY_DEFAULT_INDEX_PATTERNS = ("apm-*-transaction*", "auditbeat-*", "endgame-*", "filebeat-*", "logs-*",
                                   "packetbeat-*", "traces-apm*", "winlogbeat-*", "-*elastic-cloud-logs-*")

# Observability's log sources: the advanced setting and its default (x-pack/platform/plugins/shared/
# logs_data_access/common/ui_settings.ts @ 08605df77763b88dd4df99fe4794d70478142048, constants.ts
# @ 269a7a5b3a7b79ad545b971f514670d1d44dcc25). The newest stored Discover profile.ts quotes the default as
# ['logs*', '-logstash*', 'filebeat-*'].
OBSERVABILITY_LOG_SOURCES_SETTING = "observability:logSources"
OBSERVABILITY_LOG_SOURCES_DEFAULT = ("logs*", "filebeat-*")

# Discover's logs profile: an index pattern is a logs one when it matches createRegExpPatternFrom(these, 'data')
# or is one of observability:logSources (src/platform/packages/shared/kbn-discover-utils/src/data_types/logs/
# logs_context_service.ts; the regexp: src/platform/packages/shared/kbn-data-view-utils/src/utils/
# create_regexp_pattern_from.ts). A base name matches as a whole segment, so "django-logs-*" matches "logs".
LOGS_BASE_PATTERNS = ("log", "logs", "logstash", "auditbeat", "filebeat", "winlogbeat")
# The regexp createRegExpPatternFrom(LOGS_BASE_PATTERNS, ['data']) builds (create_regexp_pattern_from.ts
# @ 81ccf22a2cf62847fca2bc93a2c7fc4cd6ad45e6), in Python's syntax; JavaScript's \b and \s are ASCII-only, so
# this holds for ASCII index names, which ours are.
LOGS_INDEX_PATTERN_REGEXP = (r"^(?:(?:[^:,\s]*:)?[^:,\s]*(?:\b|_)(?:" + "|".join(LOGS_BASE_PATTERNS)
                             + r")(?:\b|_)(?:[^:,\s]*)?(?:::(?:data))?,?)+$")
# Where the data source profile applies (src/platform/plugins/shared/discover/public/context_awareness/
# profile_providers/observability/logs_data_source_profile/, "the profile's folder" below): profile.ts
# @ 10f2a8edf16937e8501ab8ce6cd11fab409d520d matches in the Observability solution only; the newest stored
# version also matches in classic (Default) Discover when the pattern is in observability:logSources other
# than its defaults. Which of the two 9.5 ships is not pinned.
# What the profile reads, in its folder: the recommended fields (accessors/get_recommended_fields.ts
# @ 7033630427db59bb952b7567bfa9d7bab4c837cb); the row colour from the first of log.level and log_level
# (accessors/get_row_indicator_provider.ts @ 55cbab20ad9e7cbdf6628021812e6de0177d74da) and the histogram's
# breakdown (accessors/get_default_app_state.ts @ 22e99c3980bf4a0a8af338922d5b867f2f186b92: LOG_LEVEL_FIELD).
LOGS_RECOMMENDED_FIELDS = ("event.dataset", "service.name", "host.name", "message", "log.level")
LOGS_BREAKDOWN_FIELD = "log.level"
# The log document profile (a record's flyout) takes a record whose data_stream.type is logs, or that has any
# log.* field, or whose _index is a logs pattern (createObservabilityLogDocumentProfileProvider, read through the
# index by its text: its stored path was not given).
LOG_DOCUMENT_FIELD_PREFIX = "log."
