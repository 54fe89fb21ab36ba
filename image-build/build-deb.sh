#!/bin/sh
# Builds ringstore_<version>_all.deb from target/ringstore.jar, and python3-ringstore_<version>_all.deb
# (the Python client, src/main/python, its ringstore_pb2 generated here by protoc from
# ringstore.proto), with dpkg-deb, offline.
#
#   sh image-build/build-deb.sh [--jar PATH] [--lintian]
#
# Output: target/image-build/python3-ringstore_<version>_all.deb and then
# target/image-build/ringstore_<version>_all.deb, their paths printed on stdout (ringstore's last,
# for callers that take `tail -n 1`; the Python one lies beside it). Builds the jar first when
# target/ringstore.jar is missing. --lintian runs lintian on both and fails on any tag not
# justified in image-build/deb/lintian-overrides.
set -eu
. "$(dirname "$0")/lib.sh"

JAR="$REPO/target/ringstore.jar"
LINTIAN=0
while [ $# -gt 0 ]; do
    case "$1" in
        --jar) JAR=$2; shift 2 ;;
        --lintian) LINTIAN=1; shift ;;
        *) die "unknown argument: $1" ;;
    esac
done
need_tools dpkg-deb:dpkg gzip:gzip protoc:protobuf-compiler
if [ ! -s "$JAR" ]; then
    say "no $JAR: building it"
    (cd "$REPO" && . src/dev/env.sh && mvn -q -B package -DskipTests) >&2
fi

VERSION=$(project_version)
DEB="$OUT/ringstore_${VERSION}_all.deb"
D="$IMAGE_BUILD/deb"
STAGE="$OUT/deb-root"
rm -rf "$STAGE"
mkdir -p "$OUT"

# install FILE MODE DEST
put() { install -D -m "$2" "$1" "$STAGE$3"; }
put "$JAR" 0644 /usr/share/ringstore/ringstore.jar
put "$D/ringstore" 0755 /usr/bin/ringstore
put "$REPO/systemd/ringstore.service" 0644 /usr/lib/systemd/system/ringstore.service
# Not active: two-board setups copy it to /etc/systemd/system/ringstore.service.d/ (README "Two boards").
put "$REPO/systemd/ringstore-replication.conf" 0644 /usr/share/ringstore/systemd/replication.conf
# Not active: a witness copies it there instead (README "Two boards and a witness").
put "$REPO/systemd/ringstore-witness.conf" 0644 /usr/share/ringstore/systemd/witness.conf
put "$REPO/src/main/resources/ringstore.conf" 0644 /etc/ringstore/ringstore.conf
put "$D/copyright" 0644 /usr/share/doc/ringstore/copyright
put "$REPO/README.md" 0644 /usr/share/doc/ringstore/README.md
put "$D/lintian-overrides" 0644 /usr/share/lintian/overrides/ringstore
mkdir -p "$STAGE/usr/share/man/man1"
gzip -9n < "$D/ringstore.1" > "$STAGE/usr/share/man/man1/ringstore.1.gz"
# The date of both packages is the last commit's, so the same commit gives the same .debs.
EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$EPOCH

# changelog PACKAGE: a native package's changelog, one entry for this version.
changelog() {
    {
        echo "$1 ($VERSION) unstable; urgency=medium"
        echo
        echo "  * Built from commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)."
        echo
        echo " -- ringstore developers <ringstore@ringstore.invalid>  $(LC_ALL=C date -u -R -d "@$EPOCH")"
    } | gzip -9n > "$STAGE/usr/share/doc/$1/changelog.gz"
    chmod 0644 "$STAGE/usr/share/doc/$1/changelog.gz"
}

# pack DEB: md5sums, fixed times, dpkg-deb; DEBIAN/ must be complete but for md5sums.
pack() {
    (cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f ! -path './etc/*' -printf '%P\0' \
        | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
    chmod 0644 "$STAGE/DEBIAN/md5sums"
    find "$STAGE" -exec touch -h -d "@$EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$1" >&2
    say "built $1 ($(du -h "$1" | cut -f1))"
}

changelog ringstore
mkdir -p "$STAGE/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" "$D/control.in" > "$STAGE/DEBIAN/control"
install -m 0644 "$D/conffiles" "$STAGE/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$D/$script" "$STAGE/DEBIAN/$script"
done
pack "$DEB"

# --- python3-ringstore: the Python client --------------------------------------------------
# The protocol module is generated now, by this system's protoc; its code needs a protobuf
# runtime at least as new as that protoc (3.21 on Debian bookworm and trixie), so Depends says so.
PYDEB="$OUT/python3-ringstore_${VERSION}_all.deb"
P="$IMAGE_BUILD/deb-python"
PROTOC_VERSION=$(protoc --version | sed -n 's/^libprotoc \([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$PROTOC_VERSION" ] || die "cannot read protoc's version from: $(protoc --version)"
STAGE="$OUT/deb-root-python"
rm -rf "$STAGE"
SITE=/usr/lib/python3/dist-packages
sh "$REPO/src/main/python/build.sh" "$STAGE$SITE" >/dev/null
chmod 0644 "$STAGE$SITE"/ringstore/*.py
put "$P/copyright" 0644 /usr/share/doc/python3-ringstore/copyright
changelog python3-ringstore
mkdir -p "$STAGE/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" -e "s/@PROTOBUF@/$PROTOC_VERSION/" "$P/control.in" \
    > "$STAGE/DEBIAN/control"
for script in postinst prerm; do
    install -m 0755 "$P/$script" "$STAGE/DEBIAN/$script"
done
pack "$PYDEB"

if [ "$LINTIAN" = 1 ]; then
    need_tools lintian:lintian
    # Errors and warnings fail the build; info and pedantic tags are printed.
    lintian --info --display-info --pedantic --fail-on error,warning "$DEB" "$PYDEB" >&2 \
        || die "lintian found tags (see above); fix them or justify them in image-build/deb/lintian-overrides (a python3-ringstore override would go in deb-python/lintian-overrides, installed as ringstore's is)"
    say "lintian: clean (overrides justified in image-build/deb/lintian-overrides)"
fi
echo "$PYDEB"
echo "$DEB"
