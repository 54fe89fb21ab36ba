#!/bin/sh
# Builds the jar if needed and runs the daemon with its data and socket under the checkout:
# data in ./run/data, socket ./run/ringstore.sock. Extra arguments go to `ringstore serve`,
# e.g. --durability periodic. Talk to it with `--socket run/ringstore.sock` (or
# `export RINGSTORE_SOCKET=$PWD/run/ringstore.sock`).
set -eu
. "$(dirname "$0")/env.sh"
cd "$ROOT"
if [ ! -f target/ringstore.jar ] || [ -n "$(find src pom.xml -newer target/ringstore.jar -print -quit)" ]; then
    mvn -q -B package -DskipTests
fi
mkdir -p run/data
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx64m -jar target/ringstore.jar serve \
    --data run/data --socket run/ringstore.sock "$@"
