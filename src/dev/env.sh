# Sourced by the other scripts here: finds a JDK 25 and Maven, or says exactly what to install.
# The default `java` on Debian bookworm is 17; ringstore needs 25 (FFM, the JDK it ships with on trixie).

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1; }

find_java25() {
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-openjdk-* /usr/lib/jvm/*25*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        major=$(java_major "$candidate/bin/java")
        if [ "${major:-0}" -ge 25 ] 2>/dev/null; then echo "$candidate"; return 0; fi
    done
    if command -v java >/dev/null 2>&1; then
        major=$(java_major java)
        if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
            dirname "$(dirname "$(readlink -f "$(command -v java)")")"; return 0
        fi
    fi
    return 1
}

if ! JAVA_HOME=$(find_java25); then
    echo "ringstore needs a JDK 25. Install one, e.g. on Debian trixie / Raspberry Pi OS trixie:" >&2
    echo "    sudo apt-get install openjdk-25-jdk-headless" >&2
    echo "or point JAVA_HOME at an installed JDK 25." >&2
    exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
if ! command -v mvn >/dev/null 2>&1; then
    echo "ringstore builds with Maven: sudo apt-get install maven" >&2
    exit 1
fi
# Maven 3.8 itself calls sun.misc.Unsafe; keep that noise out of our output.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
