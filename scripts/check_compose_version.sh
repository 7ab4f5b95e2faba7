#!/bin/sh
# Usage: check_compose_version.sh VERSION [MINIMUM WHY]
#   VERSION  the output of `docker compose version --short`
#   MINIMUM  MAJOR.MINOR.PATCH a profile needs beyond the stack's 2.17.0, and WHY, what needs it
# make up runs `docker compose up --wait --wait-timeout`: --wait-timeout needs Compose 2.17, and
# older versions' --wait hangs on the setup one-shot (fixed in 2.7). The app's build.additional_contexts
# also needs 2.17 (docker/compose release notes, 2.17.0). Exits 1 with a clear message
# when VERSION is older than the minimum or cannot be read.
set -eu
found=${1:-}
minimum=${2:-2.17}
why=${3:-up --wait-timeout, build.additional_contexts}

# Sets major, minor and patch from "2.40.3", "v2.40.3", "2.24.6-desktop.1" or "2.17" (no patch: 0).
read_version() {
  numbers=$(printf '%s\n' "$1" | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\)\(\.\([0-9][0-9]*\)\)\{0,1\}.*/\1 \2 \4/p')
  [ -n "$numbers" ] || return 1
  # shellcheck disable=SC2086 # split into the numbers on purpose
  set -- $numbers
  major=$1 minor=$2 patch=${3:-0}
}
if ! read_version "$minimum"; then
  echo "error: check_compose_version.sh: bad minimum '$minimum'" >&2
  exit 2
fi
want_major=$major want_minor=$minor want_patch=$patch
if ! read_version "$found"; then
  echo "error: cannot read the Docker Compose version (docker compose version --short said: '$found'); make up needs Compose $minimum or newer" >&2
  exit 1
fi

older=no
if [ "$major" -ne "$want_major" ]; then
  [ "$major" -lt "$want_major" ] && older=yes
elif [ "$minor" -ne "$want_minor" ]; then
  [ "$minor" -lt "$want_minor" ] && older=yes
elif [ "$patch" -lt "$want_patch" ]; then
  older=yes
fi
if [ "$older" = yes ]; then
  echo "error: Docker Compose $found is too old: make up needs Compose $minimum or newer ($why). Update Docker Desktop or the docker-compose-plugin package, then check with: docker compose version" >&2
  exit 1
fi
