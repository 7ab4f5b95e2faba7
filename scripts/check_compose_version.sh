#!/bin/sh
# Usage: check_compose_version.sh VERSION   (VERSION: the output of `docker compose version --short`)
# make up runs `docker compose up --wait --wait-timeout`: --wait-timeout needs Compose 2.17, and
# older versions' --wait hangs on the setup one-shot (fixed in 2.7). The app's build.additional_contexts
# also needs 2.17 (docker/compose release notes, 2.17.0). Exits 1 with a clear message
# when VERSION is older than 2.17.0 or cannot be read.
set -eu
minimum_major=2
minimum_minor=17
found=${1:-}

# "2.40.3", "v2.40.3" and "2.24.6-desktop.1" all start with MAJOR.MINOR.
numbers=$(printf '%s\n' "$found" | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
if [ -z "$numbers" ]; then
  echo "error: cannot read the Docker Compose version (docker compose version --short said: '$found'); make up needs Compose $minimum_major.$minimum_minor or newer" >&2
  exit 1
fi
major=${numbers% *}
minor=${numbers#* }

if [ "$major" -lt "$minimum_major" ] || { [ "$major" -eq "$minimum_major" ] && [ "$minor" -lt "$minimum_minor" ]; }; then
  echo "error: Docker Compose $found is too old: make up needs Compose $minimum_major.$minimum_minor or newer (up --wait-timeout, build.additional_contexts). Update Docker Desktop or the docker-compose-plugin package, then check with: docker compose version" >&2
  exit 1
fi
