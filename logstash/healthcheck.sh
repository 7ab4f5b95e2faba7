#!/bin/sh
# Logstash's healthcheck (docker-compose.yml). Healthy: the django pipeline runs, and its
# Elasticsearch output is not failing: since its last failure, a document has settled.
#
# Node stats (/_node/stats/pipelines/django) answer 404 until the pipeline is loaded
# (logstash-core lib/logstash/api/modules/node_stats.rb, halt(404) on an empty payload), then list
# plugins.outputs[] (api/commands/stats.rb, PluginsStats.report; docs/static/spec/openapi/logstash-api.yaml).
# The elasticsearch output counts in two objects of its own (logstash-output-elasticsearch
# lib/logstash/outputs/elasticsearch.rb, register; plugin_mixins/elasticsearch/common.rb, submit and
# safe_bulk): "bulk_requests.failures" for each attempt that did not reach Elasticsearch or got an
# error status (unreachable, 401, 5xx), and per document "documents.successes" (indexed),
# "non_retryable_failures" (a 409 duplicate: dropped), "dlq_routed" (a mapping error: sent to the
# dead letter queue) and "retryable_failures" (429, a read-only index's 403, a red index's 503).
# Both kinds of failure are retried for ever. A bulk with any refused item counts in
# "bulk_requests.with_errors" whether or not it is retried, so it says nothing here. Settled: a
# document indexed, dropped or sent to the dead letter queue; failing: failures grow with nothing
# settled, until a document settles again. The counters are totals, so the last verdict is kept in
# a state file. An idle pipeline sends nothing, so its output is judged at its next bulk.
#
# Runs in the Logstash image (UBI9 minimal): sh, curl and grep only.
set -u

api=${LOGSTASH_API:-http://localhost:9600}
state=${HEALTHCHECK_STATE:-/tmp/logstash-healthcheck.state}

if ! stats=$(curl -fsS --max-time 8 "$api/_node/stats/pipelines/django"); then
    echo "the django pipeline is not running yet (no node stats for it)"
    exit 1
fi
# On one line first: grep matches within a line, and a ?pretty answer spans many.
flat=$(printf '%s\n' "$stats" | while IFS= read -r line; do printf '%s' "$line"; done)
# The output's two objects ("responses" nested once in bulk_requests); empty before its first bulk.
bulk=$(printf '%s' "$flat" | grep -oE '"bulk_requests" *: *\{([^{}]|\{[^{}]*\})*\}')
documents=$(printf '%s' "$flat" | grep -oE '"documents" *: *\{[^{}]*\}')

# count TEXT NAME: the counter NAME in TEXT, 0 when it has not been counted yet.
count() {
    # shellcheck disable=SC2046 # word splitting wanted: the first number found
    set -- $(printf '%s' "$1" | grep -oE "\"$2\" *: *[0-9]+" | grep -oE '[0-9]+$') 0
    echo "$1"
}
taken=$(($(count "$documents" successes) + $(count "$documents" non_retryable_failures) + $(count "$documents" dlq_routed)))
failures=$(($(count "$bulk" failures) + $(count "$documents" retryable_failures)))

last_taken=0 last_failures=0 last_verdict=ok
if [ -r "$state" ] && read -r saved_taken saved_failures saved_verdict < "$state"; then
    # Anything but what this script writes starts afresh.
    case "$saved_taken" in '' | *[!0-9]*) saved_verdict=none ;; esac
    case "$saved_failures" in '' | *[!0-9]*) saved_verdict=none ;; esac
    case "$saved_verdict" in
        ok | failing) last_taken=$saved_taken last_failures=$saved_failures last_verdict=$saved_verdict ;;
    esac
fi
# The counters start again at 0 when Logstash restarts (the container keeps /tmp).
if [ "$taken" -lt "$last_taken" ] || [ "$failures" -lt "$last_failures" ]; then
    last_taken=0 last_failures=0 last_verdict=ok
fi
if [ "$taken" -gt "$last_taken" ]; then
    verdict=ok
elif [ "$failures" -gt "$last_failures" ]; then
    verdict=failing
else
    verdict=$last_verdict
fi
printf '%s %s %s\n' "$taken" "$failures" "$verdict" > "$state"

if [ "$verdict" = failing ]; then
    echo "the Elasticsearch output is failing: $failures failed bulk requests and documents to retry, none settled since; make logs SERVICE=logstash"
    exit 1
fi
echo "the django pipeline runs; its output: $taken documents settled, $failures failed bulk requests and documents to retry"
