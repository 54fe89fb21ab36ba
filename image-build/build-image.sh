#!/bin/sh
# Builds a flashable arm64 image for Raspberry Pi 3, 4 (and 5, see README) from Debian's archive
# alone, the way Debian's own Raspberry Pi images are made: Debian trixie with raspi-firmware and
# linux-image-arm64, an MBR disk with a FAT boot partition (RASPIFIRM, mounted at
# /boot/firmware) and an ext4 root (RASPIROOT), assembled by genimage without loop devices.
# ringstore is installed from the .deb and enabled, and python3-ringstore (the Python client) beside it; the kernel command line has psi=1 (the
# splitter's I/O pressure gauge); a first-boot service grows the root partition to the card.
#
#   sh image-build/build-image.sh [--deb PATH] [--python-deb PATH] [--xz]
#
# --python-deb defaults to python3-ringstore_<version>_all.deb beside the ringstore .deb (where
# build-deb.sh puts it).
# Output: target/image-build/ringstore-<version>-arm64.img (path printed on stdout); --xz also
# writes a compressed copy for download (slow on 2 cores). Needs root, Debian's archive for a
# cold base (base-rootfs.sh, cached), genimage, dosfstools, mtools, e2fsprogs.
set -eu
. "$(dirname "$0")/lib.sh"

DEB=""
PYDEB=""
XZ=0
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) DEB=$2; shift 2 ;;
        --python-deb) PYDEB=$2; shift 2 ;;
        --xz) XZ=1; shift ;;
        *) die "unknown argument: $1" ;;
    esac
done
need_root
need_tools genimage:genimage mkfs.vfat:dosfstools mcopy:mtools mke2fs:e2fsprogs
ensure_binfmt
lock_cache
t0=$(date +%s)
BASE=$(sh "$IMAGE_BUILD/base-rootfs.sh" | tail -n 1)
[ -n "$DEB" ] || DEB=$(sh "$IMAGE_BUILD/build-deb.sh" | tail -n 1)
VERSION=$(project_version)
[ -n "$PYDEB" ] || PYDEB="$(dirname "$DEB")/python3-ringstore_${VERSION}_all.deb"
[ -s "$PYDEB" ] || die "no $PYDEB (build-deb.sh builds it beside the ringstore .deb)"
IMG="$OUT/ringstore-$VERSION-arm64.img"
WORK="$CACHE/work/image"
ROOT="$WORK/root"

cleanup() { umount_chroot "$ROOT"; }
trap cleanup EXIT INT TERM

umount_chroot "$ROOT"
rm -rf "$WORK"
mkdir -p "$ROOT" "$OUT"
tar -xf "$BASE" -C "$ROOT"
say "base unpacked"
mount_chroot "$ROOT"
in_root() { chroot "$ROOT" "$@"; }

# --- the system --------------------------------------------------------------------------
echo ringstore > "$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tringstore\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"
cat > "$ROOT/etc/fstab" <<'FSTAB'
# noatime: no write to the SD card for every read. The boot partition is nofail with a long
# device timeout: the store does not need it to run, and a slow first boot (seen under QEMU's
# raspi3b model with a loaded host: udev came up after systemd's default 90 s) must not end in
# emergency mode, which with root's password locked is a board nobody can reach.
LABEL=RASPIROOT /              ext4 rw,noatime,errors=remount-ro                       0 1
LABEL=RASPIFIRM /boot/firmware vfat rw,noatime,umask=0022,nofail,x-systemd.device-timeout=5min 0 2
FSTAB
cp -a "$IMAGE_BUILD/overlay/." "$ROOT/"
in_root systemctl enable systemd-networkd.service ringstore-firstboot.service >/dev/null 2>&1
# Debian has no gpio group; Raspberry Pi OS has one. Make it before the package goes in, so its
# postinst adds ringstore to it (the udev rule from overlay/ gives it /dev/gpiochip*).
in_root groupadd --system gpio
# Root has no password: log in over SSH with the key put on the boot partition (README).
in_root passwd --lock root >/dev/null

# --- ringstore ---------------------------------------------------------------------------
cp "$DEB" "$PYDEB" "$ROOT/tmp/"
in_root dpkg -i "/tmp/$(basename "$DEB")" "/tmp/$(basename "$PYDEB")" >&2
rm -f "$ROOT/tmp/$(basename "$DEB")" "$ROOT/tmp/$(basename "$PYDEB")"
in_root python3 -c 'import ringstore' || die "python3-ringstore does not import in the image"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/ringstore.service" ] || die "ringstore.service not enabled"
in_root id -nG ringstore | grep -qw gpio || die "ringstore is not in group gpio"

# --- boot partition: firmware, kernel, initrd, device trees, config.txt, cmdline.txt -------
cat > "$ROOT/etc/default/raspi-firmware" <<'RASPI'
# Written by ringstore's image-build. The root by label, as genimage made it. Boot logs on the
# serial console of the GPIO header (Pi 3/4: ttyS1), a login on the screen too.
ROOTPART=LABEL=RASPIROOT
CONSOLES="tty0 ttyS1,115200"
RASPI
# psi=1: Debian's kernel builds PSI in but leaves it off; ringstore's splitter reads
# /proc/pressure/io to back off while the card is busy.
echo "psi=1" > "$ROOT/etc/default/raspi-extra-cmdline"
mkdir -p "$ROOT/boot/firmware"
cp -r "$ROOT/usr/lib/raspi-firmware/." "$ROOT/boot/firmware/"
# The hook does nothing unless told it runs from a package's configure step.
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware
grep -q 'psi=1' "$ROOT/boot/firmware/cmdline.txt" || die "psi=1 missing from cmdline.txt"
say "cmdline.txt: $(cat "$ROOT/boot/firmware/cmdline.txt")"

# --- clean up what must not be in a shipped image ------------------------------------------
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/log/*.log
: > "$ROOT/etc/machine-id"
rm -f "$ROOT"/etc/ssh/ssh_host_*
umount_chroot "$ROOT"

# --- the disk ----------------------------------------------------------------------------
# Root partition: what the files take plus a quarter and 128 MiB (the first boot grows it to
# the card; a smaller image flashes faster).
ROOT_MIB=$(( $(du -sm --exclude=./boot/firmware "$ROOT" | cut -f1) * 5 / 4 + 128 ))
cat > "$WORK/genimage.cfg" <<CFG
image boot.vfat {
    vfat {
        label = "RASPIFIRM"
    }
    mountpoint = "/boot/firmware"
    size = 256M
}
image root.ext4 {
    ext4 {
        label = "RASPIROOT"
        use-mke2fs = true
    }
    size = ${ROOT_MIB}M
}
image $(basename "$IMG") {
    hdimage {
        partition-table-type = "mbr"
    }
    partition firmware {
        partition-type = 0xC
        bootable = true
        image = "boot.vfat"
        offset = 4M
    }
    partition root {
        partition-type = 0x83
        image = "root.ext4"
    }
}
CFG
rm -f "$IMG"
genimage --config "$WORK/genimage.cfg" --rootpath "$ROOT" --tmppath "$WORK/genimage-tmp" \
    --inputpath "$WORK" --outputpath "$WORK/out" >&2
mv "$WORK/out/$(basename "$IMG")" "$IMG"
rm -rf "$WORK"
say "built $IMG ($(du -h --apparent-size "$IMG" | cut -f1)) in $(( $(date +%s) - t0 )) s"
if [ "$XZ" = 1 ]; then
    xz -T0 -6 -k -f "$IMG"
    say "compressed: $IMG.xz ($(du -h "$IMG.xz" | cut -f1))"
fi
echo "$IMG"
