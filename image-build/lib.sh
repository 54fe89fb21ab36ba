# Sourced by the image-build scripts: paths, the cache, binfmt for arm64, chroot helpers.
# Everything slow is cached under $RINGSTORE_CACHE (default /var/tmp/ringstore-image), keyed on
# a hash of the recipe that made it, so a changed recipe builds anew and an unchanged one is reused.

IMAGE_BUILD=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$IMAGE_BUILD/.." && pwd)
CACHE=${RINGSTORE_CACHE:-/var/tmp/ringstore-image}
OUT=${RINGSTORE_OUT:-$REPO/target/image-build}
MIRROR=${RINGSTORE_MIRROR:-http://deb.debian.org/debian}

say() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "$(basename "$0" .sh)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "run as root (chroots, loop-free image assembly, device nodes)"
}

# The commands a script needs, and the Debian packages that bring them.
need_tools() { # need_tools cmd:package ...
    missing=""
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    [ -z "$missing" ] && return 0
    if [ "${RINGSTORE_APT_INSTALL:-0}" = 1 ]; then
        say "installing:$missing"
        apt-get install -y -q --no-install-recommends $missing >&2 || die "apt-get install$missing failed"
    else
        die "missing tools; install them with: apt-get install$missing (or set RINGSTORE_APT_INSTALL=1)"
    fi
}

# arm64 binaries in a chroot run through qemu-user-static, registered with binfmt_misc. A VM whose
# PID 1 is not systemd has binfmt_misc unmounted; mount it and (re)enable the interpreter.
ensure_binfmt() {
    need_tools qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >&2 \
        || die "cannot register qemu-aarch64 with binfmt_misc"
}

# lock_cache: one user of $CACHE at a time. The work folders under it have fixed names, so two
# runs at once (two CI jobs, or CI and a person) would unpack into the same root and delete each
# other's files. The lock is on fd 9, inherited by the scripts this one starts (they see
# RINGSTORE_CACHE_LOCKED=1 and go on); it goes when the process that took it exits. base-rootfs.sh
# does not take it itself (a change to that file changes the cache key): its callers do.
lock_cache() {
    [ "${RINGSTORE_CACHE_LOCKED:-0}" = 1 ] && return 0
    need_tools flock:util-linux
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    if ! flock -n 9; then
        say "waiting for another run using $CACHE (up to 90 min)"
        flock -w 5400 9 || die "$CACHE still locked after 90 min"
    fi
    export RINGSTORE_CACHE_LOCKED=1
}

hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# mount_chroot ROOT / umount_chroot ROOT: the pseudo file systems a package script or the JVM needs.
mount_chroot() {
    for d in proc sys dev dev/pts run tmp; do mkdir -p "$1/$d"; done
    mount -t proc proc "$1/proc"
    mount -t sysfs sysfs "$1/sys"
    mount --bind /dev "$1/dev"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$1/dev/pts"
    mount -t tmpfs -o mode=0755 tmpfs "$1/run"
    mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
}
umount_chroot() {
    for d in tmp run dev/pts dev sys proc; do
        mountpoint -q "$1/$d" && umount -l "$1/$d"
    done
    return 0
}

# The version of the jar in target/, in Debian's spelling (0.1.0-SNAPSHOT -> 0.1.0~snapshot).
project_version() {
    v=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' "$REPO/pom.xml")
    printf '%s\n' "$v" | sed 's/-SNAPSHOT$/~snapshot/'
}

# guest_boot_files IMG DIR: the image's own kernel, initrd and command line, for QEMU's direct
# kernel boot on -M virt: DIR/vmlinuz, DIR/initrd.img, and GUEST_CMDLINE (cmdline.txt from the
# boot partition, read with mtools at the partition's byte offset, with the Pi's consoles
# replaced by the virt board's serial port).
guest_boot_files() {
    need_tools mcopy:mtools partx:util-linux
    _start=$(partx --show --bytes --noheadings -o START --nr 1 "$1" | tr -d ' ')
    _fat="$1@@$((_start * 512))"
    _kernel=$(mdir -b -i "$_fat" ::/ | sed -n 's|^::/\(vmlinuz-.*\)|\1|p' | head -n 1)
    _initrd=$(mdir -b -i "$_fat" ::/ | sed -n 's|^::/\(initrd.img-.*\)|\1|p' | head -n 1)
    [ -n "$_kernel" ] && [ -n "$_initrd" ] || die "no vmlinuz-*/initrd.img-* on the image's boot partition"
    mcopy -n -i "$_fat" "::/$_kernel" "$2/vmlinuz"
    mcopy -n -i "$_fat" "::/$_initrd" "$2/initrd.img"
    mcopy -n -i "$_fat" ::/cmdline.txt "$2/cmdline.txt"
    GUEST_CMDLINE="$(sed -e 's/console=[^ ]*//g' "$2/cmdline.txt" | tr -s ' ') console=ttyAMA0"
    GUEST_KERNEL=$_kernel
}
