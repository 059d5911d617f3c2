#!/usr/bin/env bash
# What does Vigil's eBPF sensor cost the workloads it watches? This script measures it on this machine.
#
# 1. Overhead. A fixed syscall-heavy workload (Scripts/workload/syscall-workload.c: 200,000 open+close
#    pairs, then 5,000 fork+exec of /bin/true) runs under each condition, interleaved round by round so
#    that background noise spreads evenly over them:
#      detached  the workload alone;
#      vigil     with `vigil-agent run` attached (the eBPF sensor and the detection engine);
#      bpftrace  with a bpftrace script attached to the same tracepoints, doing comparable work;
#      record    (only with --with-record) with `vigil-agent record`: the sensor without the engine.
#    It reports each condition's median time, the slowdown against `detached`, and every raw time.
# 2. Throughput. With the agent attached, two workload processes open+close flat out for a while; the
#    agent's shutdown log gives the records it read and the events it dropped. If it dropped any, paced
#    runs bisect the highest rate it takes with none dropped.
# 3. Cost per BPF program run, from the kernel's BPF statistics (kernel.bpf_stats_enabled, switched on
#    only for this step and then restored), for Vigil's programs and for bpftrace's.
#
# Usage: Scripts/ebpf-overhead.sh [--rounds R] [--agent PATH] [--throughput-seconds S] [--with-record]
#                                 [--skip-throughput] [--skip-bpf-stats]
# Needs root, cc, bpftrace and bpftool (`make overhead` installs bpftrace and builds the agent first).
set -euo pipefail

ROUNDS=7
THROUGHPUT_SECONDS=10
BISECT_STEPS=4 # paced runs after the first rate with no drops is found
WITH_RECORD=0
SKIP_THROUGHPUT=0
SKIP_BPF_STATS=0
AGENT=${VIGIL_AGENT:-}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --agent) AGENT=$2; shift 2 ;;
    --throughput-seconds) THROUGHPUT_SECONDS=$2; shift 2 ;;
    --with-record) WITH_RECORD=1; shift ;;
    --skip-throughput) SKIP_THROUGHPUT=1; shift ;;
    --skip-bpf-stats) SKIP_BPF_STATS=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
    esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "--rounds needs a positive integer" >&2; exit 2; }

die() { echo "ebpf-overhead: $*" >&2; exit 1; }
log() { echo "ebpf-overhead: $*" >&2; }

# ---------------------------------------------------------------------------------------------------------
# Prerequisites

[[ $(id -u) -eq 0 ]] || die "needs root (BPF programs, tracefs)"
[[ -c /dev/null ]] || die "/dev/null is not a character device (restore it: rm /dev/null; mknod -m 666 /dev/null c 1 3)"
command -v cc >/dev/null || die "needs a C compiler (cc)"
command -v bpftrace >/dev/null || die "needs bpftrace (apt-get install bpftrace)"
if [[ -z $AGENT ]]; then
    AGENT="$(cd "$REPO" && swift build -c release --show-bin-path)/vigil-agent"
fi
[[ -x $AGENT ]] || die "no agent at $AGENT (build it: swift build -c release --product vigil-agent)"

# bpftrace reads tracepoint formats from tracefs, which a fresh machine does not mount.
if ! mountpoint -q /sys/kernel/tracing; then
    log "mounting tracefs at /sys/kernel/tracing (bpftrace needs it)"
    mount -t tracefs nodev /sys/kernel/tracing
fi

WORK=$(mktemp -d -t vigil-overhead.XXXXXX)
# bpftrace's output goes to a file (not /dev/null) so the script can see it attach and count its lines and
# lost events; tmpfs when there is one, so writing it costs no more than a memory copy.
OUTPUT_DIR=$WORK
[[ -d /dev/shm && -w /dev/shm ]] && OUTPUT_DIR=$(mktemp -d -p /dev/shm vigil-overhead.XXXXXX)
TRACER_PID="" # the agent or bpftrace while one runs, so that cleanup can stop it
BPF_STATS_BEFORE=""
cleanup() {
    if [[ -n $TRACER_PID ]]; then kill -TERM "$TRACER_PID" 2>/dev/null || true; wait "$TRACER_PID" 2>/dev/null || true; fi
    [[ -n $BPF_STATS_BEFORE ]] && sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_BEFORE" >/dev/null || true
    rm -rf "$WORK"
    [[ $OUTPUT_DIR != "$WORK" ]] && rm -rf "$OUTPUT_DIR" || true
}
trap cleanup EXIT
trap 'echo "ebpf-overhead: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

WORKLOAD=$WORK/syscall-workload
TARGET=$WORK/target # the file the workload opens, by its absolute path
cc -O2 -o "$WORKLOAD" "$REPO/Scripts/workload/syscall-workload.c"

# ---------------------------------------------------------------------------------------------------------
# Helpers

# Waits up to 120 s for a line matching $2 in file $1, while process $3 lives.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 waited=0
    until grep -q -- "$pattern" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "process $pid exited before printing '$pattern'"; }
        ((waited++ < 2400)) || die "timed out waiting for '$pattern' in $file"
        sleep 0.05
    done
}

# The value of key=value on the first line of file $1 that matches $2 ("" when absent).
log_field() {
    grep -m1 -- "$2" "$1" | grep -o -- "$3=[0-9.]*" | head -1 | cut -d= -f2 || true
}

# CPU time (user + system, in seconds) that process $1 has used so far, from /proc/PID/stat.
cpu_seconds() {
    awk -v ticks="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / ticks }' "/proc/$1/stat"
}

# Median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The agent as condition B runs it: the sensor and the engine, learning (so no findings are written), with
# profiles in memory. Its log (standard error) goes to $1; it is attached once it says so. Alerts go to
# standard output (`--alerts -`), which goes to /dev/null: the agent must not be given /dev/null as a path,
# because it replaces the file it writes (a char device included) with a new regular file.
start_agent() {
    "$AGENT" run --store memory --learn-for 1h --alerts - --log-level info >/dev/null 2>"$1" &
    TRACER_PID=$!
    wait_for_line "$1" "eBPF sensor attached" "$TRACER_PID"
}

# The sensor alone (`vigil-agent record`), writing its events to a file: no detection engine.
start_record() {
    "$AGENT" record --out "$OUTPUT_DIR/events" --log-level info >/dev/null 2>"$1" &
    TRACER_PID=$!
    wait_for_line "$1" "eBPF sensor attached" "$TRACER_PID"
}

# Stops the agent or bpftrace with SIGTERM and waits for it to finish its shutdown.
stop_tracer() {
    kill -TERM "$TRACER_PID"
    wait "$TRACER_PID" || true
    TRACER_PID=""
}

# Condition C. The tracepoints a bpftrace script needs for the same events (bpftrace 0.17 offers
# tracepoints, not the BTF raw tracepoints Vigil uses, and its sys_exit tracepoint does not carry the
# arguments, so it stashes them at sys_enter where Vigil reads them at exit), with comparable work: syscall counts per (cgroup, syscall), the arguments of the
# syscalls Vigil records stashed per thread at entry, one line per open/openat at exit (pid, comm, path,
# result), and one line per exec, fork and exit.
cat >"$WORK/trace.bt" <<'EOF'
tracepoint:raw_syscalls:sys_enter
{
    $id = args->id;
    @usage[cgroup, $id] = count();
    // Vigil's recorded syscalls: the file, network, DNS and privileged families (x86_64 numbers).
    // (args->id is read once: bpftrace 0.17 reads it through a modified context pointer otherwise, which
    // this kernel's verifier refuses.)
    if ($id == 2 || $id == 85 || $id == 257 || $id == 437 || $id == 87 ||
        $id == 263 || $id == 82 || $id == 264 || $id == 316 || $id == 86 ||
        $id == 265 || $id == 88 || $id == 266 || $id == 90 || $id == 268 ||
        $id == 452 || $id == 42 || $id == 43 || $id == 288 || $id == 49 ||
        $id == 50 || $id == 44 || $id == 46 || $id == 307 || $id == 101 ||
        $id == 175 || $id == 313 || ($id >= 105 && $id <= 123) || $id == 126 ||
        $id == 165 || $id == 272 || $id == 308 || $id == 319 || $id == 321) {
        @call[tid] = ($id, args->args[0], args->args[1], args->args[2], args->args[3], args->args[4],
                      args->args[5]);
    }
}

tracepoint:raw_syscalls:sys_exit
/@call[tid].0 != 0/
{
    $call = @call[tid];
    if ($call.0 == 257) {
        printf("open pid=%d comm=%s path=%s result=%d\n", pid, comm, str(uptr($call.2)), args->ret);
    } else if ($call.0 == 2) {
        printf("open pid=%d comm=%s path=%s result=%d\n", pid, comm, str(uptr($call.1)), args->ret);
    }
    delete(@call[tid]);
}

tracepoint:sched:sched_process_exec
{
    printf("exec pid=%d ppid=%d comm=%s file=%s\n", pid, curtask->real_parent->tgid, comm, str(args->filename));
}

tracepoint:sched:sched_process_fork
{
    printf("fork pid=%d child=%d comm=%s\n", args->parent_pid, args->child_pid, comm);
}

tracepoint:sched:sched_process_exit
{
    printf("exit pid=%d comm=%s\n", pid, comm);
}

END
{
    clear(@usage);
    clear(@call);
}
EOF

# Starts bpftrace; it is attached once its output shows a marker file the workload opened after it
# printed "Attaching N probes..." (bpftrace prints that line before attaching, and flushes every line).
start_bpftrace() {
    local output=$1 marker=$WORK/bpftrace-ready waited=0
    # Perf buffers of 8 MiB per CPU (2048 pages; the default is 64): on 2 cores as much as Vigil's 16 MiB
    # ring, so that bpftrace does not look cheaper by losing events.
    BPFTRACE_PERF_RB_PAGES=2048 bpftrace "$WORK/trace.bt" >"$output" 2>"$output.err" &
    TRACER_PID=$!
    wait_for_line "$output" "^Attaching" "$TRACER_PID"
    until grep -q -- "path=$marker " "$output"; do
        "$WORKLOAD" --file "$marker" --pairs 1 --execs 0 >/dev/null
        ((waited++ < 600)) || die "bpftrace never showed the marker open"
        sleep 0.05
    done
}

# ---------------------------------------------------------------------------------------------------------
# 1. Overhead

CONDITIONS=(detached vigil bpftrace)
((WITH_RECORD)) && CONDITIONS+=(record)
declare -A TOTAL OPEN_CLOSE FORK_EXEC OPEN_CPU # condition -> space-separated seconds, in run order
declare -a NOTES                      # per-run facts about what the tracers saw

log "agent: $AGENT"
log "$ROUNDS rounds of: ${CONDITIONS[*]} (each run: 200,000 open+close, 5,000 fork+exec of /bin/true)"
for ((round = 1; round <= ROUNDS; round++)); do
    for condition in "${CONDITIONS[@]}"; do
        tracer_log=$OUTPUT_DIR/$condition.log
        case $condition in
        vigil) start_agent "$tracer_log" ;;
        record) start_record "$tracer_log" ;;
        bpftrace) start_bpftrace "$tracer_log" ;;
        esac
        [[ -n $TRACER_PID ]] && cpu_before=$(cpu_seconds "$TRACER_PID")
        result=$("$WORKLOAD" --file "$TARGET")
        # The tracer's own CPU time during the workload: on a machine with few cores, it competes with it.
        [[ -n $TRACER_PID ]] && cpu_used=$(awk -v a="$cpu_before" -v b="$(cpu_seconds "$TRACER_PID")" 'BEGIN { printf "%.2f", b - a }')
        [[ -n $TRACER_PID ]] && stop_tracer
        elapsed=$(grep -o 'elapsed=[0-9.]*' <<<"$result" | cut -d= -f2)
        TOTAL[$condition]+=" $elapsed"
        OPEN_CLOSE[$condition]+=" $(grep -o 'open_close=[0-9.]*' <<<"$result" | cut -d= -f2)"
        FORK_EXEC[$condition]+=" $(grep -o 'fork_exec=[0-9.]*' <<<"$result" | cut -d= -f2)"
        OPEN_CPU[$condition]+=" $(grep -o 'open_close_cpu=[0-9.]*' <<<"$result" | cut -d= -f2)"
        case $condition in
        vigil | record)
            note="round $round $condition: sensor records=$(log_field "$tracer_log" "sensor detached" records)"
            note+=" events=$(log_field "$tracer_log" "sensor detached" events)"
            [[ $condition == vigil ]] && note+=" engine dropped=$(log_field "$tracer_log" "engine stopped" dropped)"
            NOTES+=("$note; agent CPU ${cpu_used}s")
            ;;
        bpftrace)
            note="round $round bpftrace: open lines=$(grep -c '^open ' "$tracer_log" || true)"
            note+=" exec lines=$(grep -c '^exec ' "$tracer_log" || true)"
            note+=" lost=$({ grep -o 'Lost [0-9]*' "$tracer_log" || true; } | awk '{ s += $2 } END { print s + 0 }')"
            NOTES+=("$note; bpftrace CPU ${cpu_used}s")
            ;;
        esac
        rm -f "$tracer_log" "$tracer_log.err" "$OUTPUT_DIR/events"
        log "round $round/$ROUNDS $condition: ${elapsed}s"
    done
done

# The summary: medians and slowdowns against `detached`.
declare -A MEDIAN_TOTAL MEDIAN_OPEN MEDIAN_FORK MEDIAN_CPU
for condition in "${CONDITIONS[@]}"; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    MEDIAN_TOTAL[$condition]=$(median ${TOTAL[$condition]})
    # shellcheck disable=SC2086
    MEDIAN_OPEN[$condition]=$(median ${OPEN_CLOSE[$condition]})
    # shellcheck disable=SC2086
    MEDIAN_FORK[$condition]=$(median ${FORK_EXEC[$condition]})
    # shellcheck disable=SC2086
    MEDIAN_CPU[$condition]=$(median ${OPEN_CPU[$condition]})
done
slowdown() { awk -v v="$1" -v base="$2" 'BEGIN { printf "%+.1f%%", (v - base) / base * 100 }'; }

echo
echo "### Overhead: medians of $ROUNDS interleaved runs ($(nproc) cores, $(uname -r))"
echo
echo "| condition | total (s) | slowdown | 200k open+close (s) | slowdown | its CPU time (s) | slowdown | 5k fork+exec (s) | slowdown |"
echo "|---|---|---|---|---|---|---|---|---|"
for condition in "${CONDITIONS[@]}"; do
    if [[ $condition == detached ]]; then
        printf '| %s | %.3f | — | %.3f | — | %.3f | — | %.3f | — |\n' "$condition" "${MEDIAN_TOTAL[$condition]}" \
            "${MEDIAN_OPEN[$condition]}" "${MEDIAN_CPU[$condition]}" "${MEDIAN_FORK[$condition]}"
    else
        printf '| %s | %.3f | %s | %.3f | %s | %.3f | %s | %.3f | %s |\n' "$condition" \
            "${MEDIAN_TOTAL[$condition]}" "$(slowdown "${MEDIAN_TOTAL[$condition]}" "${MEDIAN_TOTAL[detached]}")" \
            "${MEDIAN_OPEN[$condition]}" "$(slowdown "${MEDIAN_OPEN[$condition]}" "${MEDIAN_OPEN[detached]}")" \
            "${MEDIAN_CPU[$condition]}" "$(slowdown "${MEDIAN_CPU[$condition]}" "${MEDIAN_CPU[detached]}")" \
            "${MEDIAN_FORK[$condition]}" "$(slowdown "${MEDIAN_FORK[$condition]}" "${MEDIAN_FORK[detached]}")"
    fi
done
echo
echo "The CPU time is what the open+close loop itself used (user and system): it shows what tracing adds to"
echo "each syscall even when other processes make the elapsed times noisy."
echo
echo "Raw runs in run order, total / open+close / fork+exec (s):"
echo
for condition in "${CONDITIONS[@]}"; do
    read -r -a totals <<<"${TOTAL[$condition]}"
    read -r -a opens <<<"${OPEN_CLOSE[$condition]}"
    read -r -a forks <<<"${FORK_EXEC[$condition]}"
    line="- $condition:"
    for i in "${!totals[@]}"; do
        line+=$(printf ' %.3f/%.3f/%.3f' "${totals[$i]}" "${opens[$i]}" "${forks[$i]}")
    done
    echo "$line"
done
echo
echo "What the tracers saw per run (each run makes 200,000 opens, 5,000 execs; other processes add theirs):"
echo
printf -- '- %s\n' "${NOTES[@]}"

# ---------------------------------------------------------------------------------------------------------
# 2. Throughput without drops

# One agent run under load: starts the agent, runs two workload processes with the given arguments (both
# cores), stops the agent. Sets RUN_RECORDS, RUN_EVENTS, RUN_DROPPED, RUN_SECONDS (attach to stop), RUN_CPU
# (the agent's CPU time over that span) and RUN_PAIRS (the pairs both workloads made).
run_loaded() {
    local tracer_log=$OUTPUT_DIR/throughput.log first second
    start_agent "$tracer_log"
    local attached=$EPOCHREALTIME cpu_before
    cpu_before=$(cpu_seconds "$TRACER_PID")
    "$WORKLOAD" --file "$TARGET" "$@" >"$WORK/first" &
    first=$!
    "$WORKLOAD" --file "$TARGET" "$@" >"$WORK/second" &
    second=$!
    wait "$first" "$second"
    local stopping=$EPOCHREALTIME
    RUN_CPU=$(awk -v a="$cpu_before" -v b="$(cpu_seconds "$TRACER_PID")" 'BEGIN { printf "%.2f", b - a }')
    stop_tracer
    RUN_SECONDS=$(awk -v a="$attached" -v b="$stopping" 'BEGIN { printf "%.3f", b - a }')
    RUN_RECORDS=$(log_field "$tracer_log" "sensor detached" records)
    RUN_EVENTS=$(log_field "$tracer_log" "sensor detached" events)
    RUN_DROPPED=$(log_field "$tracer_log" "engine stopped" dropped)
    RUN_PAIRS=$(cat "$WORK/first" "$WORK/second" | grep -o 'pairs=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s }')
    [[ -n $RUN_RECORDS && -n $RUN_DROPPED ]] || { cat "$tracer_log" >&2; die "no shutdown statistics in the agent's log"; }
    rm -f "$tracer_log"
}

if ((!SKIP_THROUGHPUT)); then
    log "throughput: agent attached, 2 workload processes flat out for ${THROUGHPUT_SECONDS}s"
    run_loaded --seconds "$THROUGHPUT_SECONDS"
    generated=$(awk -v p="$RUN_PAIRS" -v s="$THROUGHPUT_SECONDS" 'BEGIN { printf "%.0f", p / s }')
    echo
    echo "### Throughput with the agent attached (2 workload processes flat out, ${THROUGHPUT_SECONDS}s)"
    echo
    echo "- generated: $RUN_PAIRS open+close pairs, $generated pairs/s (each pair is one openat record)"
    echo "- agent: records=$RUN_RECORDS events=$RUN_EVENTS over ${RUN_SECONDS}s from attach to stop:" \
        "$(awk -v r="$RUN_RECORDS" -v s="$RUN_SECONDS" 'BEGIN { printf "%.0f", r / s }') records/s," \
        "$(awk -v r="$RUN_EVENTS" -v s="$RUN_SECONDS" 'BEGIN { printf "%.0f", r / s }') events/s" \
        "(records: read from the ring buffer; events: decoded and passed to the engine)"
    echo "- agent CPU time: ${RUN_CPU}s in ${RUN_SECONDS}s" \
        "($(awk -v c="$RUN_CPU" -v r="$RUN_RECORDS" 'BEGIN { printf "%.2f", c / r * 1e6 }') µs per record)"
    echo "- dropped (engine count, including records the kernel dropped with the ring buffer full): $RUN_DROPPED"
    if [[ $RUN_DROPPED == 0 ]]; then
        echo "- result: the highest rate this generator reaches on this machine ($generated pairs/s, both cores" \
            "busy) was taken with 0 drops; the generator, not the sensor, was the limit."
    else
        # Paced runs: halve the total rate until none is dropped, then bisect between that and the lowest
        # rate seen dropping. Each process makes half of the rate.
        log "throughput: $RUN_DROPPED dropped at full speed; searching for the highest rate without drops"
        echo "- paced runs (${THROUGHPUT_SECONDS}s each, total rate over 2 processes):"
        failing=$generated good=0 rate=$((generated / 2)) steps=0
        probe() {
            run_loaded --rate "$(($1 / 2))" --seconds "$THROUGHPUT_SECONDS"
            local achieved
            achieved=$(awk -v p="$RUN_PAIRS" -v s="$THROUGHPUT_SECONDS" 'BEGIN { printf "%.0f", p / s }')
            echo "  - target $1/s: achieved $achieved/s, records=$RUN_RECORDS in ${RUN_SECONDS}s," \
                "agent CPU ${RUN_CPU}s, dropped=$RUN_DROPPED"
            [[ $RUN_DROPPED == 0 ]]
        }
        while ((rate >= 1000)); do
            if probe "$rate"; then good=$rate; break; fi
            failing=$rate
            rate=$((rate / 2))
        done
        while ((good > 0 && steps < BISECT_STEPS && failing - good > 2000)); do
            rate=$(((good + failing) / 2 / 1000 * 1000))
            if probe "$rate"; then good=$rate; else failing=$rate; fi
            steps=$((steps + 1))
        done
        if ((good > 0)); then
            echo "- result: highest paced rate with 0 drops: $good pairs/s ($failing/s dropped)"
        else
            echo "- result: drops even at the lowest rate tried ($failing/s)"
        fi
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# 3. Cost per BPF program run

# Prints, for the BPF programs process $1 holds (their ids are in its file descriptors' fdinfo, with the
# kernel's run statistics), run count, run time and average ns per run since load. Programs reached by a tail
# call are never counted on their own: their time is their caller's.
program_costs() {
    local fd id runs time name
    for fd in /proc/"$1"/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == anon_inode:bpf-prog ]] || continue
        id=$(awk '$1 == "prog_id:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
        runs=$(awk '$1 == "run_cnt:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
        time=$(awk '$1 == "run_time_ns:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
        name=$(bpftool prog show id "$id" | awk '{ for (i = 1; i < NF; i++) if ($i == "name") { print $(i + 1); exit } }')
        if ((runs > 0)); then
            echo "| $id | $name | $runs | $time | $((time / runs)) |"
        else
            echo "| $id | $name | 0 | $time | — (tail-called: counted in its caller) |"
        fi
    done | sort -n -t'|' -k2
}

if ((!SKIP_BPF_STATS)) && command -v bpftool >/dev/null; then
    BPF_STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
    echo
    echo "### Cost per BPF program run (kernel.bpf_stats_enabled=1, one fixed workload run)"
    for condition in vigil bpftrace; do
        tracer_log=$OUTPUT_DIR/stats.log
        case $condition in
        vigil) start_agent "$tracer_log" ;;
        bpftrace) start_bpftrace "$tracer_log" ;;
        esac
        sysctl -q -w kernel.bpf_stats_enabled=1
        "$WORKLOAD" --file "$TARGET" >/dev/null
        sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_BEFORE"
        echo
        echo "$condition (counts include every process on the machine while statistics were on):"
        echo
        echo "| id | program | runs | run time (ns) | ns per run |"
        echo "|---|---|---|---|---|"
        program_costs "$TRACER_PID"
        stop_tracer
        rm -f "$tracer_log" "$tracer_log.err"
    done
    BPF_STATS_BEFORE=""
elif ((!SKIP_BPF_STATS)); then
    log "skipping BPF statistics: needs bpftool"
fi

[[ -c /dev/null ]] || log "warning: /dev/null is no longer a character device (something replaced it)"
