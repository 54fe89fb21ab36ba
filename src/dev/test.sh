#!/bin/sh
# Runs the unit and integration tests (the same command CI runs).
set -eu
. "$(dirname "$0")/env.sh"
cd "$ROOT"
exec mvn -B package "$@"
