#!/bin/sh
# The base root file system shared by the .deb test, the unit-file check and the image: Debian
# trixie arm64, systemd, the Raspberry Pi boot firmware, Debian's arm64 kernel and the Java 25
# runtime, from Debian's archive alone. Building it runs every package script under
# qemu-user-static (9-12 minutes here); the result is cached as a tar keyed on a hash of this
# file, so only a changed recipe (this file) builds it again. Prints the tar's path.
#
#   sh image-build/base-rootfs.sh [--rebuild | --path]
#
# Needs root, mmdebstrap, qemu-user-static and binfmt-support, and Debian's archive.
# Manual pages are left out (dpkg path-exclude), but their folders must exist: update-alternatives
# (openjdk's java.1.gz) fails on a missing one.
set -eu
. "$(dirname "$0")/lib.sh"

# The recipe. Anything changed here changes the cache key.
# A board has no real-time clock: timesyncd sets the clock from the network (events carry
# their time) and fake-hwclock keeps it across reboots until then. zstd compresses the initrd.
# python3-protobuf (and python3 with it) is what python3-ringstore, the Python client, needs.
PACKAGES="systemd-sysv udev dbus kmod procps iproute2 systemd-resolved systemd-timesyncd fake-hwclock
    initramfs-tools zstd linux-image-arm64 raspi-firmware
    cloud-guest-utils fdisk e2fsprogs dosfstools
    openssh-server ca-certificates nano
    adduser openjdk-25-jre-headless python3-protobuf"
SUITE=trixie
COMPONENTS="main non-free-firmware"

need_root
KEY=$(hash_files "$0")
TAR="$CACHE/base-$SUITE-arm64-$KEY.tar"
if [ "${1:-}" = "--path" ]; then # where the cached tar is or would be
    echo "$TAR"
    exit 0
fi
if [ -s "$TAR" ] && [ "${1:-}" != "--rebuild" ]; then
    say "cached: $TAR"
    echo "$TAR"
    exit 0
fi
need_tools mmdebstrap:mmdebstrap arch-test:arch-test
ensure_binfmt
mkdir -p "$CACHE"
say "building $TAR (cold cache: expect 9-15 minutes, mostly package scripts under emulation)"
start=$(date +%s)
mmdebstrap --arch=arm64 --variant=minbase --mode=root --format=tar \
    --components="$(echo $COMPONENTS | tr ' ' ',')" \
    --include="$(echo $PACKAGES | tr ' ' ',')" \
    --aptopt='APT::Install-Recommends "false"' \
    --setup-hook='mkdir -p "$1"/usr/share/man/man1 "$1"/usr/share/man/man5 "$1"/usr/share/man/man8' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
    --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id; : > "$1"/etc/machine-id' \
    "$SUITE" "$TAR.partial" \
    "deb $MIRROR $SUITE $COMPONENTS" \
    "deb $MIRROR $SUITE-updates $COMPONENTS" \
    "deb ${MIRROR%/debian}/debian-security $SUITE-security $COMPONENTS" >&2
mv "$TAR.partial" "$TAR"
# Older keys are dead weight: keep only the current base.
for old in "$CACHE"/base-$SUITE-arm64-*.tar; do
    [ "$old" = "$TAR" ] || rm -f "$old"
done
say "built in $(( $(date +%s) - start )) s: $TAR ($(du -h "$TAR" | cut -f1))"
echo "$TAR"
