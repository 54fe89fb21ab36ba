#!/bin/sh
# Boots the image under qemu-system-aarch64 (-M virt, 2 cores, 512 MiB like the smallest boards,
# direct kernel boot of the image's own kernel, initrd and cmdline.txt from its boot partition,
# no network) and checks, inside: ringstore.service active and ready (Type=notify), an event
# round-trips through the socket with the CLI, and survives `systemctl restart ringstore`. The
# image itself is not changed: the guest writes to a qcow2 overlay (4 GiB, so the first-boot
# growpart has room to grow).
#
#   sh image-build/boot-test.sh [--image PATH] [--deb PATH] [--machine virt|raspi3b]
#
# --machine raspi3b boots the Pi 3 model instead (its real device tree from the image, the image
# as an emulated SD card, 1 GiB, 4 cores; about twice as slow): Pi4J then finds a Raspberry Pi
# and its GPIO chip, so the LEDs are driven from inside the service's sandbox. The test files go
# on a copy of the image's FAT partition there (the Pi 3 model has one SD card and no virtio).
# Builds the image first (build-image.sh) when none is given. With --deb, the guest also removes
# the package (service stopped, data kept) and installs it again (service started). Prints QEMU start -> READY, the
# daemon's RSS, and the in-guest measurements. One command; needs root for the image build.
set -eu
. "$(dirname "$0")/lib.sh"

IMG=""
DEB=""
MACHINE=virt
while [ $# -gt 0 ]; do
    case "$1" in
        --image) IMG=$2; shift 2 ;;
        --machine) MACHINE=$2; shift 2 ;;
        --deb) DEB=$2; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done
need_tools qemu-system-aarch64:qemu-system-arm qemu-img:qemu-utils mcopy:mtools mkfs.vfat:dosfstools partx:util-linux
[ -n "$IMG" ] || IMG=$(sh "$IMAGE_BUILD/build-image.sh" | tail -n 1)
WORK="$OUT/boot-test-$MACHINE"
rm -rf "$WORK"
mkdir -p "$WORK"

# The boot partition's files, read with mtools at the partition's byte offset.
START=$(partx --show --bytes --noheadings -o START --nr 1 "$IMG" | tr -d ' ')
FAT="$IMG@@$((START * 512))"
KERNEL=$(mdir -b -i "$FAT" ::/ | sed -n 's|^::/\(vmlinuz-.*\)|\1|p' | head -n 1)
INITRD=$(mdir -b -i "$FAT" ::/ | sed -n 's|^::/\(initrd.img-.*\)|\1|p' | head -n 1)
[ -n "$KERNEL" ] && [ -n "$INITRD" ] || die "no vmlinuz-*/initrd.img-* on the image's boot partition"
mcopy -n -i "$FAT" "::/$KERNEL" "$WORK/vmlinuz"
mcopy -n -i "$FAT" "::/$INITRD" "$WORK/initrd.img"
mcopy -n -i "$FAT" ::/cmdline.txt "$WORK/cmdline.txt"
# The Pi's consoles (tty0, ttyS1) become the virt board's serial port; the rest is the image's.
CMDLINE="$(sed -e 's/console=[^ ]*//g' "$WORK/cmdline.txt" | tr -s ' ') console=ttyAMA0"

# The test: a small FAT disk (label RSTEST) with guest-test.sh, and a one-off unit passed as a
# system credential on the kernel command line (systemd.extra-unit.*, systemd 256+), pulled in
# by systemd.wants=. Nothing of the test is written into the image.
case "$MACHINE" in
    virt)
        mkfs.vfat -C -n RSTEST "$WORK/kit.img" 16384 >/dev/null
        mcopy -i "$WORK/kit.img" "$IMAGE_BUILD/boot-test/guest-test.sh" ::/guest-test.sh
        [ -z "$DEB" ] || mcopy -i "$WORK/kit.img" "$DEB" ::/ringstore.deb
        RUN='mkdir -p /run/rstest && mount -o ro LABEL=RSTEST /run/rstest && exec sh /run/rstest/guest-test.sh'
        qemu-img create -q -f qcow2 -F raw -b "$(readlink -f "$IMG")" "$WORK/disk.qcow2" 4G
        set -- -M virt -cpu cortex-a72 -smp 2 -m 512 \
            -drive if=none,id=disk,file="$WORK/disk.qcow2",format=qcow2 -device virtio-blk-pci,drive=disk \
            -drive if=none,id=kit,file="$WORK/kit.img",format=raw,readonly=on -device virtio-blk-pci,drive=kit
        LIMIT=900 ;; # measured: 364-561 s to power-off on a loaded host
    raspi3b)
        cp --sparse=always "$IMG" "$WORK/sd.img"
        truncate -s 4G "$WORK/sd.img" # an SD card's size is a power of two
        mcopy -i "$WORK/sd.img@@$((START * 512))" "$IMAGE_BUILD/boot-test/guest-test.sh" ::/rstest.sh
        [ -z "$DEB" ] || mcopy -i "$WORK/sd.img@@$((START * 512))" "$DEB" ::/ringstore-test.deb
        mcopy -n -i "$FAT" ::/bcm2837-rpi-3-b.dtb "$WORK/board.dtb"
        RUN='exec sh /boot/firmware/rstest.sh'
        set -- -M raspi3b -dtb "$WORK/board.dtb" -drive if=sd,file="$WORK/sd.img",format=raw
        LIMIT=1200 ;;
    *) die "unknown machine: $MACHINE (virt or raspi3b)" ;;
esac
UNIT=$(printf '%s\n' '[Unit]' 'Description=ringstore boot test (from boot-test.sh, not in the image)' \
    'After=multi-user.target' '[Service]' 'Type=oneshot' 'StandardOutput=journal+console' \
    "ExecStart=/bin/sh -c \"$RUN\"" \
    'ExecStopPost=/usr/bin/systemctl --no-block poweroff' | base64 -w0)
CMDLINE="$CMDLINE systemd.set_credential_binary=systemd.extra-unit.ringstore-boottest.service:$UNIT systemd.wants=ringstore-boottest.service"

# The limits above fit a quiet host. QEMU emulates the CPU (TCG), so a host busy with other jobs
# stretches everything: with a load average of 8-12 on 2 cores, raspi3b reached READY after
# 12 minutes and was still in the restart check at 20. RINGSTORE_BOOT_TIMEOUT (seconds)
# overrides the limit.
LIMIT=${RINGSTORE_BOOT_TIMEOUT:-$LIMIT}
LOG="$WORK/console.log"
say "booting $(basename "$IMG") on $MACHINE (kernel $KERNEL)"
T0=$(date +%s%3N)
{
    timeout "$LIMIT" qemu-system-aarch64 "$@" -nographic -no-reboot -nic none \
        -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" -append "$CMDLINE" </dev/null 2>&1
    echo "QEMU-EXIT $?"
} | while IFS= read -r line; do
    printf '%7d %s\n' "$(( $(date +%s%3N) - T0 ))" "$line"
done | tr -d '\r' > "$LOG"
TOTAL_MS=$(( $(date +%s%3N) - T0 ))

grep 'RSTEST' "$LOG" | cut -c9- >&2 || true
if ! grep -q 'RSTEST: PASS' "$LOG"; then
    tail -n 60 "$LOG" >&2
    die "boot test failed (full console log: $LOG)"
fi
# Power-on -> READY on the host's clock: the guest's monotonic clock starts with the kernel, and
# every kernel-stamped console line gives "host ms - kernel ms" >= the kernel's start on the host
# clock (printing only adds delay); the smallest is the estimate. READY=1 is when systemd set
# ringstore.service active (ActiveEnterTimestampMonotonic, Type=notify).
KERNEL_START_MS=$(awk 'match($0, /^ *[0-9]+ \[ *[0-9]+\.[0-9]+\]/) {
        host = $1; k = $0; sub(/^ *[0-9]+ \[ */, "", k); sub(/\].*/, "", k)
        d = host - k * 1000; if (min == "" || d < min) min = d }
    END { printf "%d", min }' "$LOG")
READY_US=$(sed -n 's/.*RSTEST: ready_monotonic_us=\([0-9]*\) .*/\1/p' "$LOG" | head -n 1)
READY_MS=$(( KERNEL_START_MS + READY_US / 1000 ))
cat <<REPORT
boot-test: ok ($MACHINE)
QEMU start -> kernel start: ${KERNEL_START_MS} ms; -> ringstore.service READY: ${READY_MS} ms (first boot, with growpart)
QEMU start -> power-off: $TOTAL_MS ms
$(grep 'RSTEST: ' "$LOG" | cut -c9- | grep -E 'ready_monotonic_us|userspace_monotonic_us|rss_kb|mem_total|security:|root_fs|firstboot|restart to ready|status LEDs|LEDs driven|package:')
console log: $LOG
REPORT
