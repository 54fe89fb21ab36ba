#!/bin/sh
# Builds the jar if needed and runs the daemon with its data under the checkout (./run/).
# Extra arguments go to `ringstore run`, e.g. --durability periodic.
set -eu
. "$(dirname "$0")/env.sh"
cd "$ROOT"
if [ ! -f target/ringstore.jar ] || [ -n "$(find src pom.xml -newer target/ringstore.jar -print -quit)" ]; then
    mvn -q -B package -DskipTests
fi
mkdir -p run/data
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx64m -jar target/ringstore.jar run --data run/data "$@"
