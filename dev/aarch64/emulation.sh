# Shell functions shared by dev/aarch64-check and dev/aarch64-jvm-check (sourced, not run):
# reporting, the tool check, packing an initramfs, and booting the arm64 kernel under
# qemu-system-aarch64 with the serial console captured to a log.
#
# The caller sets CACHE (where dev/aarch64-setup put the kernel) before calling boot.

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; exit 1; }

# need TOOL PACKAGE: records TOOL in missing[] (and its Debian package in packages[]) when
# it is not on PATH. The caller declares both arrays and reports them.
need() {
    if ! command -v "$1" > /dev/null 2>&1; then
        missing+=("$1")
        [[ " ${packages[*]} " == *" $2 "* ]] || packages+=("$2")
    fi
}

# initramfs DIR: packs DIR as a gzipped newc cpio, DIR.cpio.gz.
initramfs() {
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 > "$1.cpio.gz")
}

# initramfs_plain DIR OUT: packs DIR as an uncompressed newc cpio, OUT. For large trees the
# emulated kernel unpacks a plain archive much faster than it inflates a gzipped one.
initramfs_plain() {
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$2"
}

# boot INITRD LOG MEMORY_MB TIMEOUT_S ARGS: boots $CACHE/Image on 2 emulated CPUs with INITRD
# (-cpu max; pauth-impdef=on swaps the architected pointer-authentication hash, QARMA, for
# one that is much cheaper to emulate: Debian's kernel and arm64 libraries sign return
# addresses in every function, and a boot took about three times longer with QARMA),
# init = the initramfs's /init, which gets ARGS (the words after "--" on the kernel command
# line). The serial console goes to LOG (carriage returns removed), line by line, so that a
# long run can be followed with tail -f. Returns qemu's exit
# status; 124 or 137 when the run was stopped after TIMEOUT_S seconds.
boot() {
    timeout --kill-after=10 "$4" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m "$3" -nic none \
        -kernel "$CACHE/Image" -initrd "$1" \
        -append "console=ttyAMA0 rdinit=/init panic=-1 quiet -- $5" \
        -nographic -no-reboot < /dev/null 2>&1 | stdbuf -oL tr -d '\r' > "$2"
    return "${PIPESTATUS[0]}"
}
