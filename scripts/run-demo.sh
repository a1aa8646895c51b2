#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job: a single-node Meseta cluster on loopback
# (mesos-master + mesos-agent with cgroups and namespaces, no ZooKeeper) and a demo task
# launched through the v1 scheduler API with mesos-execute, printing its states and output.
# Needs root. Ports: MASTER_PORT (default 5050), AGENT_PORT (default 5051).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bins
BIN="$PWD/target/release"
MASTER_PORT="${MASTER_PORT:-5050}"
AGENT_PORT="${AGENT_PORT:-5051}"
WORK="$(mktemp -d /tmp/meseta-demo.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

"$BIN/mesos-master" --ip=127.0.0.1 --port="$MASTER_PORT" --work_dir="$WORK/master" \
    >"$WORK/master.log" 2>&1 &
pids+=($!)
"$BIN/mesos-agent" --master="127.0.0.1:$MASTER_PORT" --ip=127.0.0.1 --port="$AGENT_PORT" \
    --work_dir="$WORK/agent" --runtime_dir="$WORK/run" \
    --isolation=cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,namespaces/uts,filesystem/linux \
    --cgroups_enable_cfs >"$WORK/agent.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
    if "$BIN/agentctl" --agent="127.0.0.1:$AGENT_PORT" ps >/dev/null 2>&1 \
        && grep -q '"slaves":\[{' <(exec 3<>"/dev/tcp/127.0.0.1/$MASTER_PORT"; printf 'GET /state HTTP/1.0\r\n\r\n' >&3; cat <&3); then
        break
    fi
    sleep 0.1
done
echo "master 127.0.0.1:$MASTER_PORT and agent 127.0.0.1:$AGENT_PORT are up (logs in $WORK)"

"$BIN/mesos-execute" --master="127.0.0.1:$MASTER_PORT" --name=meseta-demo --resources='cpus:0.5;mem:64' \
    --command='echo "hello from $(hostname), pid $$ in my own pid namespace"; head -c 20000000 /dev/urandom | md5sum' \
    && status=0 || status=$?
echo "--- the task's stdout, from its sandbox ---"
cat "$WORK"/agent/slaves/*/frameworks/*/executors/meseta-demo/runs/latest/stdout
exit $status
