#!/bin/sh
# Usage: check_compose_version.sh VERSION
#   VERSION  the output of `docker compose version --short`
# make up needs Compose 2.30: from 2.30 `up --wait-timeout` bounds each service's wait for its
# dependencies too (docker/compose commit ce27dba, pkg/compose/convergence.go, waitDependencies).
# Before, that wait has no timeout, and a service that crash-loops under `restart: unless-stopped`
# (Docker resets its health to "starting" at each restart) hangs `make up` for good. 2.30 also
# covers the cluster overlay's `!override` (2.24.4) and the app's build.additional_contexts (2.17).
# Exits 1 with a clear message when VERSION is older or cannot be read.
set -eu
found=${1:-}
minimum=2.30
why="before 2.30 no timeout bounds its waits for a service's dependencies, so one that keeps restarting, such as Elasticsearch with a bad setting, hangs make up"

# Sets major and minor from "2.40.3", "v2.40.3", "2.24.6-desktop.1" or "2.30".
read_version() {
  numbers=$(printf '%s\n' "$1" | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
  [ -n "$numbers" ] || return 1
  # shellcheck disable=SC2086 # split into the numbers on purpose
  set -- $numbers
  major=$1 minor=$2
}
read_version "$minimum"
want_major=$major want_minor=$minor
if ! read_version "$found"; then
  echo "error: cannot read the Docker Compose version (docker compose version --short said: '$found'); make up needs Compose $minimum or newer" >&2
  exit 1
fi

if [ "$major" -lt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -lt "$want_minor" ]; }; then
  echo "error: Docker Compose $found is too old: make up needs Compose $minimum or newer ($why). Update Docker Desktop or the docker-compose-plugin package, then check with: docker compose version" >&2
  exit 1
fi
