#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job: the seeds' single-node stack on loopback —
# ZooKeeper, mesos-master (elected through ZooKeeper), mesos-agent (docker,mesos
# containerizers, cgroups and namespaces), marathon, chronos and marathon-lb on HAProxy —
# then deploys a web app through Marathon's /v2/apps and reaches it through HAProxy on its
# service port, adds a Chronos job and waits for its first run, and runs one task with
# mesos-execute. It stays up until Ctrl-C (DEMO_EXIT=1: stop after the checks).
# Needs root. Ports: ZooKeeper 2181, master 5050, agent 5051, Marathon 8080, Chronos 4400,
# HAProxy 9090 (stats), 9091 (app id), 10000 (the demo app's service port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bins
BIN="$PWD/target/release"
WORK="$(mktemp -d /tmp/meseta-demo.XXXXXX)"
pids=()
cleanup() {
    # The app's tasks outlive an agent stop by design (recovery): remove the app first.
    curl -sf -X DELETE 'http://127.0.0.1:8080/v2/apps/demo/web?force=true' >/dev/null 2>&1 && sleep 3
    [ -f "$WORK/haproxy.pid" ] && kill "$(cat "$WORK/haproxy.pid")" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    # Whatever the agent left running (a task still being killed): its containers' processes.
    for id in $(ls "$WORK/run/containers" 2>/dev/null); do
        cat /sys/fs/cgroup/*/mesos/"$id"/cgroup.procs 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    done
    pkill -9 -f "runtime_dir=$WORK/run" 2>/dev/null || true
}
trap cleanup EXIT
log() { printf '\n\033[1m%s\033[0m\n' "$*"; }
wait_for() { # DESCRIPTION COMMAND...
    local what="$1"; shift
    for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "run-demo: timed out waiting for $what (logs in $WORK)" >&2
    exit 1
}

log "ZooKeeper on 127.0.0.1:2181 (data in $WORK/zk)"
mkdir -p "$WORK/zk"
printf 'tickTime=500\ndataDir=%s/zk\nclientPort=2181\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\n' \
    "$WORK" > "$WORK/zoo.cfg"
java -Xmx256m -Dzookeeper.log.dir="$WORK" -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/zoo.cfg" >"$WORK/zookeeper.log" 2>&1 &
pids+=($!)
zk_up() { exec 3<>/dev/tcp/127.0.0.1/2181 && printf srvr >&3 && grep -q Mode <&3; }
wait_for ZooKeeper zk_up
ZK=zk://127.0.0.1:2181

log "mesos-master on :5050 (leader elected in ZooKeeper under /mesos), mesos-agent on :5051"
"$BIN/mesos-master" --ip=127.0.0.1 --port=5050 --zk="$ZK/mesos" --quorum=1 \
    --work_dir="$WORK/master" >"$WORK/master.log" 2>&1 &
pids+=($!)
"$BIN/mesos-agent" --master="$ZK/mesos" --ip=127.0.0.1 --port=5051 \
    --work_dir="$WORK/agent" --runtime_dir="$WORK/run" --containerizers=docker,mesos \
    --isolation=cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,filesystem/linux \
    --resources='ports:[10000-10100,31000-32000]' >"$WORK/agent.log" 2>&1 &
pids+=($!)
agent_registered() { curl -sf http://127.0.0.1:5050/state | grep -q '"activated_slaves":1'; }
wait_for "the agent to register" agent_registered

log "marathon on :8080, chronos on :4400, marathon-lb (HAProxy) following Marathon's events"
"$BIN/marathon" --master="$ZK/mesos" --zk="$ZK/marathon" --http_port=8080 --hostname=127.0.0.1 \
    >"$WORK/marathon.log" 2>&1 &
pids+=($!)
"$BIN/chronos" --master="$ZK/mesos" --zk_hosts=127.0.0.1:2181 --http_port=4400 --hostname=127.0.0.1 \
    >"$WORK/chronos.log" 2>&1 &
pids+=($!)
wait_for Marathon curl -sf http://127.0.0.1:8080/ping
wait_for Chronos curl -sf http://127.0.0.1:4400/scheduler/jobs
"$BIN/marathon-lb" --marathon http://127.0.0.1:8080 --group external --sse --dont-bind-http-https \
    --haproxy-config "$WORK/haproxy/haproxy.cfg" --haproxy-pid-file "$WORK/haproxy.pid" \
    >"$WORK/marathon-lb.log" 2>&1 &
pids+=($!)

log "POST /v2/apps: a web app with two instances behind HAProxy's service port 10000"
curl -sf -X POST http://127.0.0.1:8080/v2/apps -H 'Content-Type: application/json' -d '{
  "id": "/demo/web", "instances": 2, "cpus": 0.1, "mem": 32,
  "cmd": "echo \"hello from $MESOS_TASK_ID\" > index.html && exec python3 -m http.server $PORT0",
  "portDefinitions": [{"port": 10000, "protocol": "tcp"}],
  "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 2, "gracePeriodSeconds": 10}],
  "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_MODE": "http"}
}' | head -c 300; echo
wait_for "the app through HAProxy" curl -sf http://127.0.0.1:10000/
for _ in 1 2 3 4; do curl -s http://127.0.0.1:10000/; done

log "POST /v1/scheduler/iso8601: a Chronos job every minute"
curl -sf -X POST http://127.0.0.1:4400/v1/scheduler/iso8601 -H 'Content-Type: application/json' \
    -d '{"name": "demo-job", "command": "echo chronos was here", "schedule": "R/2020-01-01T00:00:00Z/PT1M", "owner": "demo@example.com"}'
job_ran() { curl -sf http://127.0.0.1:4400/v1/scheduler/jobs | grep -q '"successCount":[1-9]'; }
wait_for "the job's first run" job_ran
echo "demo-job ran: $(curl -sf http://127.0.0.1:4400/v1/scheduler/jobs | grep -o '"successCount":[0-9]*')"

log "mesos-execute through the elected master"
"$BIN/mesos-execute" --master="$ZK/mesos" --name=meseta-demo --resources='cpus:0.5;mem:64' \
    --command='echo "hello from $(hostname), pid $$ in my own pid namespace"'

log "Up: master http://127.0.0.1:5050  marathon http://127.0.0.1:8080  chronos http://127.0.0.1:4400  app http://127.0.0.1:10000  (logs in $WORK)"
if [ "${DEMO_EXIT:-0}" != 1 ]; then
    echo "Ctrl-C stops everything."
    wait
fi
