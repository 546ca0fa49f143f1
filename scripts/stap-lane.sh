#!/usr/bin/env bash
# The stap lane: real SystemTap runs (passes 1-5) on hosts that cannot load kernel modules.
# Probe modules are compiled on the host for Debian's kernel (`stap -r HEADERS -p4`, see
# src/stap/stap-module.ts); a qemu guest booted from a small initramfs mounts the host's root
# read-only over 9p, chroots into it and runs a job script there (staprun, node, Jest), writing
# into a shared job folder.
#
#   scripts/stap-lane.sh prepare [DIR]     fetch and cache the guest assets (default build/stap-lane)
#   scripts/stap-lane.sh env [DIR]         print the lane's settings as shell assignments
#   scripts/stap-lane.sh boot DIR JOBDIR   boot the guest, run JOBDIR/job.sh in it (as `sh job.sh`,
#                                          cwd JOBDIR); the console goes to JOBDIR/console.log
#
# Nothing is installed into the host kernel: the kernel, its headers and busybox are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into DIR. qemu-system-x86 must be installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
DIR=$(realpath -m "${2:-$ROOT/build/stap-lane}")
log() { echo "[stap-lane $(date +%T)] $*" >&2; }

kernel_version() {  # e.g. 6.1.0-57-amd64, the release Debian's linux-image-amd64 points at
  if [ -f "$DIR/kernel-release" ]; then cat "$DIR/kernel-release"; return; fi
  apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -1
}

# 9p root for the guest, in load order (from the kernel package)
GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

prepare() {
  mkdir -p "$DIR/debs"
  local kv; kv=$(kernel_version)
  [ -n "$kv" ] || { echo "stap-lane: cannot tell the Debian kernel release (apt-cache depends linux-image-amd64); run apt-get update" >&2; exit 1; }
  local k=$DIR/kernel
  if [ ! -f "$k/.done" ]; then
    log "downloading linux-image-$kv, its headers and kbuild, busybox-static"
    local kbuild; kbuild=$(apt-cache depends "linux-headers-$kv" | sed -n 's/.*Depends: \(linux-kbuild-[0-9.]*\)$/\1/p' | head -1)
    (cd "$DIR/debs" && apt-get download -qq "linux-image-$kv" "linux-headers-$kv" "linux-headers-${kv%-amd64}-common" "$kbuild" busybox-static)
    log "unpacking"
    rm -rf "$k"; mkdir -p "$k"
    for d in "$DIR"/debs/*.deb; do dpkg-deb -x "$d" "$k"; done
    # Debian's headers Makefile includes the -common tree by its absolute /usr/src path
    echo "include $k/usr/src/linux-headers-${kv%-amd64}-common/Makefile" > "$k/usr/src/linux-headers-$kv/Makefile"
    echo "$kv" > "$DIR/kernel-release"
    rm -f "$DIR"/debs/*.deb
    touch "$k/.done"
  fi
  if [ ! -f "$DIR/runtime/.done" ]; then
    log "patching the systemtap runtime"
    rm -rf "$DIR/runtime"; cp -a /usr/share/systemtap/runtime "$DIR/runtime"
    # stap 4.8 predates the task_work_cancel() -> task_work_cancel_func() rename backported to 6.1.y
    if grep -q 'task_work_cancel_func' "$k/usr/src/linux-headers-${kv%-amd64}-common/include/linux/task_work.h" 2>/dev/null; then
      sed -i -e 's/typeof(&task_work_cancel)/typeof(\&task_work_cancel_func)/' \
             -e 's/lookup_name("task_work_cancel")/lookup_name("task_work_cancel_func")/' "$DIR/runtime/stp_task_work.c"
    fi
    touch "$DIR/runtime/.done"
  fi
  if [ ! -f "$DIR/initrd.gz" ] || [ "$ROOT/scripts/stap-lane-init.sh" -nt "$DIR/initrd.gz" ]; then
    log "packing the initramfs"
    local i=$DIR/initrd; rm -rf "$i"; mkdir -p "$i/bin" "$i/mods" "$i/proc" "$i/sys" "$i/dev" "$i/host"
    cp "$k/bin/busybox" "$i/bin/busybox"
    for m in $GUEST_MODULES; do
      local f; f=$(find "$k/lib/modules/$kv" -name "$m.ko" | head -1)
      [ -n "$f" ] || { echo "stap-lane: module $m.ko not found in the kernel package" >&2; exit 1; }
      cp "$f" "$i/mods/"
    done
    sed -e "s|@MODULES@|$GUEST_MODULES|g" -e "s|@KROOT@|$k|g" -e "s|@RELEASE@|$kv|g" "$ROOT/scripts/stap-lane-init.sh" > "$i/init"
    chmod +x "$i/init"
    (cd "$i" && find . | "$k/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$DIR/initrd.gz.tmp"
    mv "$DIR/initrd.gz.tmp" "$DIR/initrd.gz"
  fi
  log "ready: $DIR (kernel $kv)"
}

print_env() {
  local kv; kv=$(kernel_version)
  echo "USTACK_STAP_LANE=$DIR"
  echo "USTACK_STAP_LANE_RELEASE=$kv"
  echo "USTACK_STAP_LANE_KERNEL=$DIR/kernel/usr/src/linux-headers-$kv"
  echo "USTACK_STAP_LANE_RUNTIME=$DIR/runtime"
}

boot() {
  local job; job=$(realpath "${3:?usage: stap-lane.sh boot DIR JOBDIR}")
  [ -f "$DIR/initrd.gz" ] || { echo "stap-lane: $DIR is not prepared: run scripts/stap-lane.sh prepare $DIR" >&2; exit 1; }
  [ -f "$job/job.sh" ] || { echo "stap-lane: $job/job.sh is missing" >&2; exit 1; }
  command -v qemu-system-x86_64 >/dev/null || { echo "stap-lane: qemu-system-x86_64 is missing: apt-get install qemu-system-x86" >&2; exit 1; }
  local kv; kv=$(kernel_version)
  rm -f "$job/console.log" "$job/job.rc"
  log "booting the guest (job $job)"
  # -append carries the job folder; the init script mounts it writable over its host path
  local accel=(-accel tcg,thread=multi)
  # Software emulation by default: on this machine kind /dev/kvm exists but a KVM guest hangs right
  # after the boot loader (nested virtualization; measured 2026-12-02). USTACK_STAP_LANE_KVM=1 opts in.
  [ "${USTACK_STAP_LANE_KVM:-0}" = 1 ] && [ -w /dev/kvm ] && accel=(-accel kvm "${accel[@]}")
  # one vCPU by default: with two, a run once locked both CPUs up in the kernel (soft lockup, 2026-12-01)
  timeout "${USTACK_STAP_LANE_TIMEOUT:-900}" qemu-system-x86_64 -nographic -no-reboot -m 3G -smp "${USTACK_STAP_LANE_CPUS:-1}" -nic none \
    "${accel[@]}" -cpu max \
    -kernel "$DIR/kernel/boot/vmlinuz-$kv" -initrd "$DIR/initrd.gz" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$job",mount_tag=job,security_model=none,multidevs=remap \
    -append "console=ttyS0 panic=-1 loglevel=4 ustack_job=$job" </dev/null >"$job/console.log" 2>&1 || true
  log "guest finished"
  [ -f "$job/job.rc" ] || { echo "stap-lane: the job did not finish; last console lines:" >&2; tail -30 "$job/console.log" >&2; exit 1; }
  return "$(cat "$job/job.rc")"
}

case "$cmd" in
  prepare) prepare ;;
  env) print_env ;;
  boot) boot "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
