#!/usr/bin/env bash
# How fast does Vigil stop a process that trips a rule? This script measures it on this machine.
#
# It starts `vigil-agent run --respond on` with a policy that kills any program executed from a temporary
# directory (the built-in rule vigil.workload.exec-from-temp-dir), then runs such a program N times, one
# after the other, each waiting to be killed. For every run it takes three times:
#   event     the exec as the kernel stamped it (the finding's time, from the eBPF record);
#   action    when the agent's kill had been done (the response record's time);
#   exit      when the script saw the process die (waitpid returned).
# It reports the median, p90, p99 and maximum of action - event and exit - event, over the runs that were
# killed, and how many runs were not killed within the timeout.
#
# Usage: Scripts/response-latency.sh --agent PATH [--runs N] [--keep]
# Needs root (`make latency` builds the release agent and runs this).
set -euo pipefail

RUNS=200
AGENT=${VIGIL_AGENT:-}
KEEP=0

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --agent) AGENT=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
    esac
done

die() { echo "response-latency: $*" >&2; exit 1; }
log() { echo "response-latency: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (the eBPF sensor, and killing processes)"
[[ -x $AGENT ]] || die "no agent binary: give --agent PATH (make latency builds one)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
command -v python3 >/dev/null || die "needs python3"

# The program must run from /tmp for the rule to fire; its own directory keeps this run's processes apart.
WORK=$(mktemp -d /tmp/vigil-latency.XXXXXX)
AGENT_PID=
cleanup() {
    [[ -n $AGENT_PID ]] && kill -INT "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
    if [[ $KEEP -eq 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

cp "$(readlink -f /bin/sleep)" "$WORK/tripwire"
cat >"$WORK/policy.yaml" <<'EOF'
mode: on
rules:
  - name: kill programs run from temporary directories
    match:
      rule: [vigil.workload.exec-from-temp-dir]
    action: kill
# The runs come faster than the default rate limit (30 a minute) allows.
limits: { per_minute: 100000, per_target_per_minute: 3 }
EOF

"$AGENT" run --store memory --alerts "$WORK/alerts.jsonl" --respond on --policy "$WORK/policy.yaml" \
    --log-level info >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT_PID=$!
for _ in $(seq 1 300); do
    grep -q "eBPF sensor attached" "$WORK/agent.err" 2>/dev/null && break
    kill -0 "$AGENT_PID" 2>/dev/null || die "the agent exited: $(tail -5 "$WORK/agent.err")"
    sleep 0.1
done
grep -q "eBPF sensor attached" "$WORK/agent.err" || die "the agent did not attach in 30 s"
log "agent attached; $RUNS runs"

python3 - "$WORK" "$RUNS" <<'EOF'
import json, statistics, subprocess, sys, time
from datetime import datetime, timezone

work, runs = sys.argv[1], int(sys.argv[2])
exits = {}
survivors = 0
for run in range(runs):
    process = subprocess.Popen([f"{work}/tripwire", "30"])
    try:
        process.wait(timeout=5)
        exits[process.pid] = time.time_ns()
    except subprocess.TimeoutExpired:
        survivors += 1
        process.kill()
        process.wait()
    time.sleep(0.02)
time.sleep(1)

def nanoseconds(text):
    # RFC 3339 with nanoseconds: datetime keeps microseconds only, so add the rest by hand.
    whole, fraction = text.rstrip("Z").split(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])

action, observed = [], []
with open(f"{work}/alerts.jsonl") as alerts:
    for line in alerts:
        alert = json.loads(line)
        if alert.get("rule", {}).get("id") != "vigil.workload.exec-from-temp-dir":
            continue
        pid = alert.get("process", {}).get("pid")
        kills = [r for r in alert.get("response", []) if r["action"] == "kill" and r["outcome"] == "done"]
        if pid not in exits or not kills:
            continue
        event = nanoseconds(alert["time"])
        action.append((nanoseconds(kills[0]["time"]) - event) / 1e6)
        observed.append((exits[pid] - event) / 1e6)

def describe(name, values):
    if not values:
        return f"{name}: no measurements"
    ordered = sorted(values)
    def percentile(p):
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
    return (f"{name}: median {statistics.median(ordered):.2f} ms, p90 {percentile(90):.2f} ms, "
            f"p99 {percentile(99):.2f} ms, max {ordered[-1]:.2f} ms (n={len(ordered)})")

print(f"runs {runs}, killed and matched {len(action)}, not killed within 5 s {survivors}")
print(describe("event -> kill done (agent)", action))
print(describe("event -> exit seen (waitpid)", observed))
EOF
