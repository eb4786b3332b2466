#!/usr/bin/busybox sh
# /init of the initramfs that dev/aarch64-jvm-check boots under qemu-system-aarch64: Debian 13's
# arm64 JDK 25 and busybox (the cached root, dev/aarch64-jvm-setup), rseq4j's jars, and this
# script. It sets up the minimum a JVM and the tests need (proc, sys, dev, a cgroup-v1 freezer,
# loopback), runs the steps of /rseq4j/plan one after another and powers the machine off.
#
# /rseq4j/plan: one step a line, "NAME COMMAND...": COMMAND is shell text run with the functions
# below. Each step's output goes to the serial console between
#   STEP-BEGIN NAME
#   STEP-END NAME rc=EXIT_STATUS secs=WALL_SECONDS
# and the host (dev/aarch64-jvm-check) judges each step from that text. The last line is
# GUEST-DONE.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/usr/bin/busybox --install -s
mkdir -p /proc /sys /dev /tmp /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Tests that freeze threads look for the cgroup-v1 freezer here and skip where it is missing.
mount -t tmpfs cgroup /sys/fs/cgroup && mkdir -p /sys/fs/cgroup/freezer &&
    mount -t cgroup -o freezer freezer /sys/fs/cgroup/freezer
ip link set lo up
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8
export JAVA_HOME=/usr/lib/jvm/java-25-openjdk-arm64
export PATH=$JAVA_HOME/bin:$PATH
R=/rseq4j
# The time scale (the host writes it: 20 to 50 times slower than natively, more on a busy host).
# The library's wait for a free slice on the stop-and-fence path is 10 s natively
# (-Drseq4j.stopWaitSeconds); every JVM here gets 10 s times the scale: in a whole run at host
# load 18, stress's histogram and series workers (2 emulated CPUs, 12 workers, folds holding
# slices stopped) once waited longer than 10 s and threw, with every total still exact.
SCALE=$(cat $R/time-scale)
STOP_WAIT="-Drseq4j.stopWaitSeconds=$((10 * SCALE))"

# rseq4j ARGS...: the CLI from the shaded jar (JAVA_FLAGS: extra JVM options); bench from the
# bench jar (the CLI with the benchmarks), as the launcher ./rseq4j does.
rseq4j() {
    jar=$R/rseq4j.jar
    [ "$1" = bench ] && jar=$R/rseq4j-bench.jar
    java --enable-native-access=ALL-UNNAMED $STOP_WAIT $JAVA_FLAGS -jar $jar "$@"
}

# junit EXECUTION SELECTORS...: rseq4j-core's tests through the JUnit console launcher, as one of
# the three executions of the Maven build (rseq4j-core/pom.xml): default, own-registration
# (GLIBC_TUNABLES=glibc.pthread.rseq=0) or portable (-Drseq4j.mode=portable). Runs from the
# module directory, as Surefire does (ReadmeSnippetsTest reads ../README.md). The tests' own
# wall-time limits and progress windows are multiplied by the time scale in /rseq4j/time-scale
# (-Drseq4j.test.timeScale, testsupport.TimeScale), and so is the library's wait for a free
# slice (STOP_WAIT above: a collector that keeps stopping slices makes emulated writers wait
# longer, e.g. PerCpuCounterTest, SlotPoolCachesTest); JUnit's @Timeout limits
# are off: they are set for native speed, and the host's boot timeout bounds the run. One line
# per finished test (testfeed) shows the progress on the console.
junit() {
    execution=$1
    shift
    flags="-Drseq4j.test.execution=$execution -Drseq4j.test.timeScale=$SCALE $STOP_WAIT"
    case $execution in
        own-registration)
            export GLIBC_TUNABLES=glibc.pthread.rseq=0
            flags="$flags -Drseq4j.test.expectRegistration=own" ;;
        portable)
            flags="$flags -Drseq4j.mode=portable -Drseq4j.test.expectMode=portable" ;;
    esac
    cp=$R/rseq4j-core/target/test-classes:$R/rseq4j-core/target/classes
    for j in $R/lib/*.jar; do cp=$cp:$j; done
    cd $R/rseq4j-core || return 1
    java --enable-native-access=ALL-UNNAMED -Xss1m $flags -cp "$cp" \
        org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors \
        --details=testfeed --fail-if-no-tests --reports-dir /tmp/junit-$execution \
        --config=junit.jupiter.execution.timeout.mode=disabled "$@"
    rc=$?
    # each test class's time, from the launcher's XML report: TESTCLASS SECONDS CLASS
    sed -n 's/.*<testcase name="[^"]*" classname="\([^"]*\)" time="\([0-9.]*\)".*/\1 \2/p' \
        /tmp/junit-$execution/*.xml | awk '{ t[$1] += $2 } END { for (c in t) printf "TESTCLASS %.1f %s\n", t[c], c }'
    return $rc
}

# metrics SECONDS: the metrics demo; once its workers have stopped (it prints records=N then, and
# keeps serving for the linger time), one scrape of the endpoint over loopback (busybox wget),
# printed as SCRAPE lines; then the demo is ended and its output printed.
metrics() {
    port=9400
    rseq4j demo metrics --port $port --threads 2 --seconds "$1" --linger-seconds 600 > /tmp/metrics.out 2>&1 &
    pid=$!
    n=0
    while ! grep -q '^records=' /tmp/metrics.out && kill -0 $pid 2> /dev/null && [ $n -lt 600 ]; do
        sleep 1
        n=$((n + 1))
    done
    wget -q -T 120 -O /tmp/scrape.txt "http://127.0.0.1:$port/metrics"
    scraped=$?
    sed 's/^/SCRAPE /' /tmp/scrape.txt | grep -v '^SCRAPE #'
    kill $pid 2> /dev/null
    wait $pid
    cat /tmp/metrics.out
    return $scraped
}

echo "GUEST kernel $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) CPUs, $(java -version 2>&1 | head -n 1)"
while read -r name command; do
    [ -n "$name" ] || continue
    echo "STEP-BEGIN $name"
    t0=$(date +%s)
    (eval "$command") < /dev/null 2>&1
    rc=$?
    echo "STEP-END $name rc=$rc secs=$(($(date +%s) - t0))"
done < $R/plan
echo "GUEST-DONE"
sync
poweroff -f
