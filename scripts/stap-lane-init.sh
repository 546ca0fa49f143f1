#!/bin/busybox sh
# /init of the stap lane's guest (scripts/stap-lane.sh fills in the @...@ values): the host's root
# read-only over 9p, the job folder writable over its own host path, then JOB/job.sh in a chroot.
# No overlayfs: uprobes cannot be placed on files seen through it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "GUEST UP $(cut -d' ' -f1 /proc/uptime)s"
for m in @MODULES@; do insmod /mods/$m.ko || echo "stap-lane: insmod $m failed"; done
JOB=$(sed -n 's/.*ustack_job=\([^ ]*\).*/\1/p' /proc/cmdline)
H=/host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $H || echo "stap-lane: 9p root mount failed"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job $H$JOB || echo "stap-lane: 9p job mount failed"
for d in proc sys dev; do mount --bind /$d $H/$d; done
mount -t debugfs debugfs $H/sys/kernel/debug
mount -t tmpfs tmpfs $H/var/tmp
mount -t tmpfs tmpfs $H/run
# the kernel's config where `ustack doctor` and stap look for it
mount -t tmpfs tmpfs $H/boot && cp $H@KROOT@/boot/config-@RELEASE@ $H/boot/
echo "ROOT READY $(cut -d' ' -f1 /proc/uptime)s"
chroot $H /bin/sh -c "cd '$JOB' && HOME=/root TMPDIR=/var/tmp PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh job.sh >job.log 2>&1; echo \$? >job.rc"
echo "JOB DONE rc=$(cat $H$JOB/job.rc 2>/dev/null) $(cut -d' ' -f1 /proc/uptime)s"
sync
umount $H$JOB
poweroff -f
