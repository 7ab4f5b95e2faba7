#!/bin/sh
# Logstash's healthcheck (docker-compose.yml). Healthy: the django pipeline runs, and its
# Elasticsearch output is not failing, i.e. its last bulk requests were not all failures.
#
# Node stats (/_node/stats/pipelines/django) answer 404 until the pipeline is loaded
# (logstash-core lib/logstash/api/modules/node_stats.rb, halt(404) on an empty payload), then list
# plugins.outputs[] (api/commands/stats.rb, PluginsStats.report; docs/static/spec/openapi/logstash-api.yaml).
# The elasticsearch output counts in its own "bulk_requests" object (logstash-output-elasticsearch
# plugin_mixins/elasticsearch/common.rb, submit and safe_bulk): "successes" for a bulk Elasticsearch
# took whole, "with_errors" for one it took with some documents refused (a 409 duplicate after a
# retry, a 400 sent to the dead letter queue), "failures" for each attempt that did not reach it or
# got an error status (unreachable, 401, 5xx: retried for ever); its nested "responses" object of
# status codes comes from http_client.rb (bulk_send). A bulk taken is either of the first two. The
# counters are totals, so the last verdict is kept in a state file: failing once failures grow with
# no bulk taken, until one is taken again.
# An idle pipeline sends nothing, so its output is judged at its next bulk.
#
# Runs in the Logstash image (UBI9 minimal): sh, curl and grep only.
set -u

api=${LOGSTASH_API:-http://localhost:9600}
state=${HEALTHCHECK_STATE:-/tmp/logstash-healthcheck.state}

if ! stats=$(curl -fsS --max-time 8 "$api/_node/stats/pipelines/django"); then
    echo "the django pipeline is not running yet (no node stats for it)"
    exit 1
fi
# The output's bulk_requests object, "responses" nested once inside it; empty before its first bulk.
# On one line first: grep matches within a line, and a ?pretty answer spans many.
bulk=$(printf '%s\n' "$stats" | while IFS= read -r line; do printf '%s' "$line"; done |
    grep -oE '"bulk_requests" *: *\{([^{}]|\{[^{}]*\})*\}')

# count NAME: the bulk_requests counter NAME, 0 when it has not been counted yet.
count() {
    # shellcheck disable=SC2046 # word splitting wanted: the first number found
    set -- $(printf '%s' "$bulk" | grep -oE "\"$1\" *: *[0-9]+" | grep -oE '[0-9]+$') 0
    echo "$1"
}
taken=$(($(count successes) + $(count with_errors)))
failures=$(count failures)

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
    echo "the Elasticsearch output is failing: $failures failed bulk requests, none taken since; make logs SERVICE=logstash"
    exit 1
fi
echo "the django pipeline runs; its output: $taken bulk requests taken, $failures failed"
