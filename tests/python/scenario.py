#!/usr/bin/env python3
"""End-to-end scenarios driven by an unmodified pymesos 0.3.15 scheduler.

Usage: scenario.py NAME --master HOST:PORT [--timeout SECS]

Prints one JSON object per line for what happened (events), and a final line
`RESULT {"ok": true|false, ...}`; exits 0 only when every expectation of the scenario held,
otherwise 1 with the reason in the RESULT line.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler, decode_data, encode_data

HERE = os.path.dirname(os.path.abspath(__file__))
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
            "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"}


def emit(kind, **fields):
    fields["event"] = kind
    print(json.dumps(fields), flush=True)


def scalar(name, value):
    return Dict(name=name, type="SCALAR", scalar=Dict(value=value))


def resource_value(offer, name):
    for r in offer.resources:
        if r.name == name:
            if r.type == "SCALAR":
                return r.scalar.value
            if r.type == "RANGES":
                return [[x.begin, x.end] for x in r.ranges.range]
    return None


class Base(Scheduler):
    """Launches the scenario's tasks on the first offers and records every update."""

    def __init__(self, tasks):
        self.pending = list(tasks)  # dicts: id, command/executor, cpus, mem, kill_after
        self.states = {}            # task id -> list of states
        self.updates = []
        self.offers_seen = []
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.agent_id = None
        self.error = None
        self.messages = []

    def registered(self, driver, framework_id, master_info):
        emit("registered", framework_id=framework_id.value)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            with self.lock:
                self.offers_seen.append({
                    "id": offer.id.value, "agent_id": offer.agent_id.value,
                    "hostname": offer.hostname,
                    "cpus": resource_value(offer, "cpus"), "mem": resource_value(offer, "mem"),
                    "disk": resource_value(offer, "disk"), "ports": resource_value(offer, "ports"),
                })
                emit("offer", **self.offers_seen[-1])
                if not self.pending:
                    driver.declineOffer(offer.id, Dict(refuse_seconds=3600))
                    continue
                cpus, mem = resource_value(offer, "cpus") or 0, resource_value(offer, "mem") or 0
                tasks = []
                while self.pending and cpus >= self.pending[0].get("cpus", 0.1) and mem >= self.pending[0].get("mem", 32):
                    spec = self.pending.pop(0)
                    cpus -= spec.get("cpus", 0.1)
                    mem -= spec.get("mem", 32)
                    tasks.append(self.task_info(offer, spec))
                self.agent_id = offer.agent_id.value
            if tasks:
                emit("launch", offer_id=offer.id.value, tasks=[t.task_id.value for t in tasks])
                driver.launchTasks(offer.id, tasks)
            else:
                driver.declineOffer(offer.id)

    def task_info(self, offer, spec):
        t = Dict()
        t.task_id.value = spec["id"]
        t.agent_id.value = offer.agent_id.value
        t.name = spec["id"]
        t.resources = [scalar("cpus", spec.get("cpus", 0.1)), scalar("mem", spec.get("mem", 32))]
        if "executor" in spec:
            t.executor = spec["executor"]
            t.data = encode_data(spec.get("data", b"").encode() if isinstance(spec.get("data"), str) else b"")
        else:
            t.command.value = spec["command"]
            t.command.shell = True
        return t

    def statusUpdate(self, driver, update):
        tid = update.task_id.value
        with self.lock:
            self.states.setdefault(tid, []).append(update.state)
            rec = {"task_id": tid, "state": update.state, "reason": update.get("reason"),
                   "message": update.get("message"), "source": update.get("source"),
                   "agent_id": update.agent_id.value if update.get("agent_id") else None,
                   "has_uuid": bool(update.get("uuid"))}
            self.updates.append(rec)
        emit("update", **rec)
        self.on_update(driver, update)
        self.check_done()

    def frameworkMessage(self, driver, executor_id, agent_id, message):
        data = decode_data(message).decode()
        with self.lock:
            self.messages.append(data)
        emit("framework_message", executor_id=executor_id.value, data=data)
        self.check_done()

    def error(self, driver, message):
        self.error = message
        emit("error", message=message)
        self.done.set()

    def on_update(self, driver, update):
        pass

    def terminal(self, tid):
        return any(s in TERMINAL for s in self.states.get(tid, []))

    def check_done(self):
        pass


class ShellTasks(Base):
    """FINISHED, FAILED (exit 3) and KILLED (killTask) command tasks."""

    TASKS = [
        {"id": "finish", "command": "echo hello-from-meseta; echo to-stderr >&2; exit 0"},
        {"id": "fail", "command": "echo failing; exit 3"},
        {"id": "kill", "command": "trap 'echo got-sigterm; exit 143' TERM; echo started; while :; do sleep 0.1; done"},
    ]

    def __init__(self):
        super().__init__(self.TASKS)

    def on_update(self, driver, update):
        if update.task_id.value == "kill" and update.state == "TASK_RUNNING":
            emit("kill_requested", task_id="kill")
            driver.killTask(update.task_id)

    def check_done(self):
        if all(self.terminal(t["id"]) for t in self.TASKS):
            self.done.set()

    def verify(self):
        s = self.states
        problems = []
        if not self.offers_seen:
            problems.append("no offer")
        else:
            o = self.offers_seen[0]
            for k in ("cpus", "mem", "disk", "ports"):
                if not o[k]:
                    problems.append(f"offer lacks {k}: {o}")
        want = {"finish": "TASK_FINISHED", "fail": "TASK_FAILED", "kill": "TASK_KILLED"}
        for tid, final in want.items():
            got = s.get(tid, [])
            if not got or got[-1] != final:
                problems.append(f"{tid}: states {got}, wanted last {final}")
            if "TASK_RUNNING" not in got:
                problems.append(f"{tid}: never TASK_RUNNING ({got})")
        for u in self.updates:
            if u["has_uuid"] and not u["agent_id"]:
                problems.append(f"update with uuid but no agent_id: {u}")
        fail = [u for u in self.updates if u["task_id"] == "fail" and u["state"] == "TASK_FAILED"]
        if fail and "Command exited with status 3" not in (fail[-1]["message"] or ""):
            problems.append(f"fail message: {fail[-1]['message']}")
        return problems


class CustomExecutor(Base):
    """A task that names its own ExecutorInfo: a pymesos MesosExecutorDriver in Python."""

    def __init__(self, python):
        ex = Dict()
        ex.executor_id.value = "py-executor"
        ex.name = "pymesos test executor"
        ex.command.value = f"{python} {os.path.join(HERE, 'executor.py')}"
        ex.resources = [scalar("cpus", 0.1), scalar("mem", 64)]
        super().__init__([{"id": "custom", "executor": ex, "data": "ping", "mem": 32}])

    def check_done(self):
        if self.terminal("custom") and self.messages:
            self.done.set()

    def verify(self):
        problems = []
        got = self.states.get("custom", [])
        if not got or got[-1] != "TASK_FINISHED":
            problems.append(f"custom: states {got}")
        if "TASK_RUNNING" not in got:
            problems.append(f"custom: never RUNNING ({got})")
        if not any(m.startswith("pong:ping") for m in self.messages):
            problems.append(f"no framework message from the executor: {self.messages}")
        return problems


class MemoryLimit(Base):
    """A task that allocates past its `mem` ends TASK_FAILED, REASON_CONTAINER_LIMITATION_MEMORY."""

    def __init__(self):
        super().__init__([{"id": "hog", "command": "dd if=/dev/zero of=/dev/null bs=512M count=1; sleep 5", "mem": 64}])

    def check_done(self):
        if self.terminal("hog"):
            self.done.set()

    def verify(self):
        last = [u for u in self.updates if u["task_id"] == "hog"]
        if not last or last[-1]["state"] != "TASK_FAILED":
            return [f"hog: updates {last}"]
        if last[-1]["reason"] != "REASON_CONTAINER_LIMITATION_MEMORY":
            return [f"hog: reason {last[-1]['reason']} ({last[-1]['message']})"]
        return []


class LongRunning(Base):
    """Launches `sleep` tasks and holds them RUNNING until stdin closes, then kills them."""

    def __init__(self):
        super().__init__([{"id": "long", "command": "echo long-running-output; sleep 600", "mem": 48}])
        self.running = threading.Event()

    def on_update(self, driver, update):
        if update.state == "TASK_RUNNING":
            emit("running", task_id=update.task_id.value, agent_id=update.agent_id.value)
            self.running.set()

    def check_done(self):
        if self.terminal("long"):
            self.done.set()

    def verify(self):
        got = self.states.get("long", [])
        return [] if got and got[-1] == "TASK_KILLED" else [f"long: states {got}"]


class ImageTask(Base):
    """Command tasks in a MESOS container with a docker image (IMAGE_NAME, default
    busybox:latest): one writes what it sees into $MESOS_SANDBOX/proof, one runs the image's
    Entrypoint/Cmd, one is killed. With IMAGE_EXPECT_FAILURE set, the single task must fail
    with a message naming that text (an agent without --image_providers)."""

    PROOF = ("cat /etc/keep; test -e /etc/hello && echo whiteout-missed; cat /etc/hostname; "
             "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; pwd; echo sandbox=$MESOS_SANDBOX; "
             "test -d /proc/1 && echo proc-ok; test -c /dev/null && echo dev-ok; "
             "touch /sys/x 2>/dev/null || echo sys-ro; ls /bin")

    def __init__(self):
        self.image = os.environ.get("IMAGE_NAME", "busybox:latest")
        self.expect_failure = os.environ.get("IMAGE_EXPECT_FAILURE")
        self.custom_executor = os.environ.get("IMAGE_CUSTOM_EXECUTOR")
        if self.expect_failure:
            tasks = [{"id": "img-unsupported", "command": "true"}]
        elif self.custom_executor:
            # An executor that runs inside the image, records what it sees and exits
            # without subscribing: its task fails, the proof file tells where it ran.
            ex = Dict()
            ex.executor_id.value = "img-executor"
            ex.command.value = ("(cat /etc/keep; echo sandbox=$MESOS_SANDBOX; pwd; ls /bin; "
                                "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status) "
                                "> $MESOS_SANDBOX/executor-proof 2>&1")
            ex.resources = [scalar("cpus", 0.1), scalar("mem", 32)]
            ex.container.type = "MESOS"
            ex.container.mesos.image.type = "DOCKER"
            ex.container.mesos.image.docker.name = self.image
            tasks = [{"id": "img-custom", "executor": ex}]
        else:
            tasks = [
                {"id": "img-proof", "command": f"({self.PROOF}) > $MESOS_SANDBOX/proof 2>&1"},
                {"id": "img-entrypoint", "entrypoint": True},
                {"id": "img-kill", "command": "trap 'exit 143' TERM; while :; do sleep 0.1; done"},
            ]
        super().__init__(tasks)
        self.ids = [t["id"] for t in tasks]

    def task_info(self, offer, spec):
        t = super().task_info(offer, dict(spec, command=spec.get("command", "")))
        if "executor" in spec:
            return t
        if spec.get("entrypoint"):
            t.command = Dict(shell=False)
        t.container.type = "MESOS"
        t.container.mesos.image.type = "DOCKER"
        t.container.mesos.image.docker.name = self.image
        return t

    def on_update(self, driver, update):
        if update.task_id.value == "img-kill" and update.state == "TASK_RUNNING":
            driver.killTask(update.task_id)

    def check_done(self):
        if all(self.terminal(t) for t in self.ids):
            self.done.set()

    def verify(self):
        last = {t: (self.states.get(t) or ["none"])[-1] for t in self.ids}
        if self.expect_failure:
            u = [u for u in self.updates if u["task_id"] == "img-unsupported"]
            if last["img-unsupported"] != "TASK_FAILED" or self.expect_failure not in (u[-1]["message"] or ""):
                return [f"img-unsupported: {u}"]
            return []
        if self.custom_executor:
            return [] if last["img-custom"] == "TASK_FAILED" else [f"img-custom: {self.states}"]
        want = {"img-proof": "TASK_FINISHED", "img-entrypoint": "TASK_FINISHED", "img-kill": "TASK_KILLED"}
        return [f"{t}: states {self.states.get(t)}, wanted last {w}; updates "
                f"{[u for u in self.updates if u['task_id'] == t]}"
                for t, w in want.items() if last[t] != w]
# --- pullkill: kills while the image is pulled ---
class ImageKill(Base):
    """Command tasks in a MESOS container with image IMAGE_NAME, driven from stdin so a test
    can kill them while the agent pulls the image: `launch ID` starts one, `kill ID` kills it
    (a `kill_latency` event gives the seconds from killTask to its TASK_KILLED), `teardown -`
    tears the framework down and ends the scenario. The tasks in
    IMAGE_KILL_FIRST (comma-separated) start on the first offer. The scenario ends when stdin
    is closed and every task is terminal; IMAGE_KILL_EXPECT ("id=TASK_STATE,...") names the
    final states it must reach. A task's command only succeeds inside the image."""

    def __init__(self):
        self.image = os.environ.get("IMAGE_NAME", "busybox:latest")
        first = [t for t in os.environ.get("IMAGE_KILL_FIRST", "").split(",") if t]
        super().__init__([self.spec(t) for t in first])
        self.ids = list(first)
        self.kill_sent = {}
        self.stdin_closed = False

    @staticmethod
    def spec(tid):
        return {"id": tid, "command": "cat /etc/keep && test ! -e /etc/hello"}

    def task_info(self, offer, spec):
        t = super().task_info(offer, spec)
        t.container.type = "MESOS"
        t.container.mesos.image.type = "DOCKER"
        t.container.mesos.image.docker.name = self.image
        return t

    def interact(self, driver, args):
        threading.Thread(target=self.read_commands, args=(driver,), daemon=True).start()

    def read_commands(self, driver):
        for line in sys.stdin:
            words = line.split()
            if len(words) != 2:
                continue
            verb, tid = words
            if verb == "launch":
                with self.lock:
                    self.ids.append(tid)
                    self.pending.append(self.spec(tid))
                emit("launch_requested", task_id=tid)
                driver.reviveOffers()
            elif verb == "kill":
                with self.lock:
                    self.kill_sent[tid] = time.monotonic()
                emit("kill_requested", task_id=tid)
                driver.killTask(Dict(value=tid))
            elif verb == "teardown":
                emit("teardown_requested")
                driver.stop()
                self.done.set()
                return
        with self.lock:
            self.stdin_closed = True
        self.check_done()

    def on_update(self, driver, update):
        tid = update.task_id.value
        with self.lock:
            sent = self.kill_sent.get(tid)
        if update.state == "TASK_KILLED" and sent is not None:
            emit("kill_latency", task_id=tid, secs=time.monotonic() - sent)

    def check_done(self):
        with self.lock:
            closed, ids = self.stdin_closed, list(self.ids)
        if closed and all(self.terminal(t) for t in ids):
            self.done.set()

    def verify(self):
        problems = []
        for pair in filter(None, os.environ.get("IMAGE_KILL_EXPECT", "").split(",")):
            tid, want = pair.split("=")
            got = self.states.get(tid, [])
            if not got or got[-1] != want:
                problems.append(f"{tid}: states {got}, wanted last {want}; updates "
                                f"{[u for u in self.updates if u['task_id'] == tid]}")
        for tid, got in self.states.items():
            if sum(s in TERMINAL for s in got) > 1:
                problems.append(f"{tid}: more than one terminal update: {got}")
        return problems
# --- end pullkill ---


# --- docker containerizer scenarios (ContainerInfo.type=DOCKER) ---
# The image comes from MESETA_DOCKER_IMAGE (loaded into dockerd by the Rust test).

def docker_container(network="HOST", **docker):
    c = Dict()
    c.type = "DOCKER"
    c.docker.image = os.environ.get("MESETA_DOCKER_IMAGE", "busybox:latest")
    c.docker.network = network
    for k, v in docker.items():
        c.docker[k] = v
    return c


class DockerBase(Base):
    """Adds ContainerInfo, kill policy, environment and port resources to Base's tasks."""

    CHECKPOINT = False

    def __init__(self, tasks):
        super().__init__(tasks)
        self.running_ids = set()
        self.running_ips = {}
        self.all_running = threading.Event()

    def task_info(self, offer, spec):
        t = super().task_info(offer, spec)
        if "container" in spec:
            t.container = spec["container"]
        if "shell" in spec:
            t.command.shell = spec["shell"]
            t.command.arguments = spec.get("arguments", [])
            if not spec.get("command"):
                del t.command["value"]
        if "env" in spec:
            t.command.environment.variables = [Dict(name=k, value=v) for k, v in spec["env"].items()]
        if "grace" in spec:
            t.kill_policy.grace_period.nanoseconds = int(spec["grace"] * 1e9)
        if spec.get("ports"):
            t.resources.append(Dict(name="ports", type="RANGES", ranges=Dict(
                range=[Dict(begin=p, end=p) for p in spec["ports"]])))
        return t

    def on_update(self, driver, update):
        if update.state == "TASK_RUNNING":
            ips = [a.get("ip_address") for n in (update.get("container_status") or {}).get("network_infos", [])
                   for a in n.get("ip_addresses", [])]
            emit("running", task_id=update.task_id.value, ips=ips)
            with self.lock:
                self.running_ips[update.task_id.value] = ips
                self.running_ids.add(update.task_id.value)
                if all(t["id"] in self.running_ids for t in self.TASKS if t.get("long")):
                    self.all_running.set()

    def check_done(self):
        if all(self.terminal(t["id"]) for t in self.TASKS):
            self.done.set()

    def interact(self, driver, args):
        """Long-running tasks: wait until they run, then kill them when stdin closes."""
        if not any(t.get("long") for t in self.TASKS):
            return
        if not self.all_running.wait(args.timeout):
            emit("timeout", waiting_for="TASK_RUNNING")
            return
        emit("all_running")
        sys.stdin.read()
        for t in self.TASKS:
            if t.get("long") and not self.terminal(t["id"]):
                emit("kill_requested", task_id=t["id"])
                driver.killTask(Dict(value=t["id"]))

    def expect(self, want):
        problems = []
        for tid, final in want.items():
            got = self.states.get(tid, [])
            if not got or got[-1] != final:
                problems.append(f"{tid}: states {got}, wanted last {final}")
        return problems

    def message_of(self, tid, state):
        ups = [u for u in self.updates if u["task_id"] == tid and u["state"] == state]
        return (ups[-1]["message"] or "") if ups else ""


class DockerTasks(DockerBase):
    """DOCKER tasks FINISHED (env, sandbox, shell=false), FAILED (exit 3) and KILLED with a
    grace period, next to a MESOS task on the same agent."""

    TASKS = [
        {"id": "dfinish", "container": docker_container(), "env": {"FOO": "bar"},
         "command": 'echo docker-hello; echo sandbox=$MESOS_SANDBOX; echo pwd=$(pwd); '
                    'test -f "$MESOS_SANDBOX/stdout" && echo sandbox-mounted; echo FOO=$FOO'},
        {"id": "dargs", "container": docker_container(), "shell": False,
         "arguments": ["sh", "-c", "echo args-ok"], "command": ""},
        {"id": "dfail", "container": docker_container(), "command": "echo failing; exit 3"},
        {"id": "dkill", "container": docker_container(), "grace": 5, "long": True,
         "command": "trap 'echo got-sigterm; exit 0' TERM; echo started; while :; do sleep 0.1; done"},
        {"id": "dstop", "container": docker_container(),
         "command": "trap 'sleep 1; echo stopped-after-grace; exit 0' TERM; while :; do sleep 0.1; done"},
        {"id": "mtask", "command": "echo mesos-side"},
        {"id": "dpriv", "container": docker_container(privileged=True), "command": "echo privileged-ok"},
        {"id": "dbadparam", "container": docker_container(parameters=[Dict(key="frobnicate", value="1")]),
         "command": "echo never"},
    ]

    def __init__(self):
        pull = os.environ.get("MESETA_DOCKER_PULL_IMAGE")
        if pull:  # an image only in the registry: the executor must pull it
            c = docker_container()
            c.docker.image = pull
            self.TASKS = self.TASKS + [{"id": "dpull", "container": c, "command": "echo pulled-ok"}]
            absent = docker_container()
            absent.docker.image = pull.rsplit("/", 1)[0] + "/absent:v1"
            self.TASKS = self.TASKS + [{"id": "dnoimage", "container": absent, "command": "echo never"}]
        super().__init__(self.TASKS)

    def on_update(self, driver, update):
        if update.task_id.value in ("dkill", "dstop") and update.state == "TASK_RUNNING":
            emit("kill_requested", task_id=update.task_id.value)
            driver.killTask(update.task_id)

    def interact(self, driver, args):
        pass

    def verify(self):
        problems = self.expect({"dfinish": "TASK_FINISHED", "dargs": "TASK_FINISHED",
                                "dfail": "TASK_FAILED", "dkill": "TASK_KILLED",
                                "dstop": "TASK_KILLED", "mtask": "TASK_FINISHED"})
        if any(t["id"] == "dpull" for t in self.TASKS):
            problems += self.expect({"dpull": "TASK_FINISHED", "dnoimage": "TASK_FAILED"})
            msg = self.message_of("dnoimage", "TASK_FAILED")
            if "Failed to pull image" not in msg or not ("not found" in msg or "unknown" in msg):
                problems.append(f"dnoimage message (Docker's error passed through?): {msg!r}")
        problems += self.expect({"dbadparam": "TASK_FAILED"})
        msg = self.message_of("dbadparam", "TASK_FAILED")
        if "unsupported docker parameter '--frobnicate'" not in msg:
            problems.append(f"dbadparam message: {msg!r}")
        for tid in ("dfinish", "dfail", "dkill"):
            if "TASK_RUNNING" not in self.states.get(tid, []):
                problems.append(f"{tid}: never TASK_RUNNING ({self.states.get(tid)})")
        msg = self.message_of("dfail", "TASK_FAILED")
        if "Container exited with status 3" not in msg:
            problems.append(f"dfail message: {msg!r}")
        # Where dockerd itself cannot run privileged containers (a restricted capability
        # bounding set), the task must fail with Docker's own error passed through.
        priv_error = os.environ.get("MESETA_PRIVILEGED_ERROR", "")
        if not priv_error:
            problems += self.expect({"dpriv": "TASK_FINISHED"})
        elif priv_error not in self.message_of("dpriv", "TASK_FAILED"):
            problems.append(f"dpriv: wanted {priv_error!r} in {self.message_of('dpriv', 'TASK_FAILED')!r}")
        return problems


class DockerNetwork(DockerBase):
    """A BRIDGE task publishing port 8080 on the offered host port, and a HOST-network task,
    both serving a read-only host volume with busybox httpd; held RUNNING until stdin closes.
    The framework's user is `nobody`: the docker executor still runs as the agent's user."""

    USER = "nobody"

    def __init__(self):
        bridge_port, host_port = [int(p) for p in os.environ["MESETA_DOCKER_PORTS"].split(",")]
        www = os.environ["MESETA_DOCKER_WWW"]
        vol = Dict(container_path="/www", host_path=www, mode="RO")
        bridge = docker_container(
            "BRIDGE",
            port_mappings=[Dict(host_port=bridge_port, container_port=8080, protocol="tcp")],
            parameters=[Dict(key="label", value="meseta.test=bridge"),
                        Dict(key="env", value="FROM_PARAM=yes")])
        bridge.volumes = [vol]
        host = docker_container("HOST")
        host.volumes = [vol]
        self.TASKS = [
            {"id": "dbridge", "container": bridge, "ports": [bridge_port], "long": True, "mem": 64,
             "command": "echo FROM_PARAM=$FROM_PARAM; exec httpd -f -p 8080 -h /www"},
            {"id": "dhost", "container": host, "ports": [host_port], "long": True,
             "command": f"exec httpd -f -p 127.0.0.1:{host_port} -h /www"},
        ]
        net = os.environ.get("MESETA_DOCKER_NETWORK")
        if net:  # a user-defined Docker network, named in ContainerInfo.network_infos
            user = docker_container("USER")
            user.network_infos = [Dict(name=net)]
            self.TASKS.append({"id": "duser", "container": user, "long": True,
                               "command": "exec sleep 600"})
        super().__init__(self.TASKS)

    def verify(self):
        problems = self.expect({"dbridge": "TASK_KILLED", "dhost": "TASK_KILLED"})
        # TASK_RUNNING carries the bridge container's address (ContainerStatus.network_infos).
        if not any(self.running_ips.get("dbridge", [])):
            problems.append(f"dbridge RUNNING without an IP: {self.running_ips}")
        if any(self.running_ips.get("dhost", [])):
            problems.append(f"dhost (host network) RUNNING with an IP: {self.running_ips}")
        if any(t["id"] == "duser" for t in self.TASKS):
            problems += self.expect({"duser": "TASK_KILLED"})
        return problems


class DockerRecovery(DockerBase):
    """A checkpointing framework's DOCKER task that the test keeps RUNNING across an agent
    kill -9 and restart, then kills."""

    CHECKPOINT = True
    TASKS = [{"id": "drec", "container": docker_container(), "long": True, "grace": 3,
              "command": "echo rec-start; trap 'echo rec-term; exit 0' TERM; while :; do sleep 0.1; done"}]

    def __init__(self):
        super().__init__(self.TASKS)

    def verify(self):
        return self.expect({"drec": os.environ.get("MESETA_EXPECT_FINAL", "TASK_KILLED")})


class DockerUnavailable(DockerBase):
    """A DOCKER task fails at once with MESETA_EXPECT_MESSAGE in its message; a MESOS task
    on the same agent still finishes."""

    TASKS = [
        {"id": "dnodocker", "container": docker_container(), "command": "echo never"},
        {"id": "mok", "command": "echo mesos-still-works"},
    ]

    def __init__(self):
        super().__init__(self.TASKS)

    def verify(self):
        problems = self.expect({"dnodocker": "TASK_FAILED", "mok": "TASK_FINISHED"})
        ups = [u for u in self.updates if u["task_id"] == "dnodocker" and u["state"] == "TASK_FAILED"]
        want = os.environ.get("MESETA_EXPECT_MESSAGE", "")
        if not ups or want not in (ups[-1]["message"] or ""):
            problems.append(f"dnodocker: wanted {want!r} in {ups}")
        elif ups[-1]["reason"] != "REASON_CONTAINER_LAUNCH_FAILED":
            problems.append(f"dnodocker: reason {ups[-1]['reason']}")
        return problems


DOCKER_SCENARIOS = {
    "docker_tasks": DockerTasks,
    "docker_network": DockerNetwork,
    "docker_recovery": DockerRecovery,
    "docker_unavailable": DockerUnavailable,
}
# --- end docker containerizer scenarios ---


# --- auth ---
class DockerPull(DockerBase):
    """One DOCKER task whose image (MESETA_DOCKER_IMAGE) dockerd must pull: it ends
    MESETA_EXPECT_FINAL (default TASK_FINISHED), with MESETA_EXPECT_MESSAGE in its last
    message when that is set."""

    TASKS = [{"id": "dpullauth", "container": docker_container(),
              "command": "echo pulled-with-credentials"}]

    def __init__(self):
        super().__init__(self.TASKS)

    def verify(self):
        final = os.environ.get("MESETA_EXPECT_FINAL", "TASK_FINISHED")
        problems = self.expect({"dpullauth": final})
        want = os.environ.get("MESETA_EXPECT_MESSAGE")
        got = self.message_of("dpullauth", final)
        if want and want not in got:
            problems.append(f"dpullauth: wanted {want!r} in {got!r}")
        return problems


DOCKER_SCENARIOS["docker_pull"] = DockerPull
# --- end auth ---


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["shell_tasks", "custom_executor", "memory_limit", "long_running", "image_task",
                                         "image_kill"]
                    + list(DOCKER_SCENARIOS))
    ap.add_argument("--master", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    sched = {
        "shell_tasks": ShellTasks,
        "custom_executor": lambda: CustomExecutor(sys.executable),
        "memory_limit": MemoryLimit,
        "long_running": LongRunning,
        "image_task": ImageTask,
        "image_kill": ImageKill,
        **DOCKER_SCENARIOS,
    }[args.scenario]()
    framework = Dict(user=getattr(sched, "USER", "root"), name=f"meseta-e2e-{args.scenario}",
                     hostname=socket.gethostname())
    if getattr(sched, "CHECKPOINT", False):
        framework.checkpoint = True
    driver = MesosSchedulerDriver(sched, framework, args.master, use_addict=True)
    driver.start()
    if args.scenario == "long_running":
        if not sched.running.wait(args.timeout):
            emit("timeout", waiting_for="TASK_RUNNING")
        sys.stdin.read()  # the test inspects the running task, then closes our stdin
        driver.killTask(Dict(value="long"))
    if hasattr(sched, "interact"):
        sched.interact(driver, args)
    ok = sched.done.wait(args.timeout)
    problems = [] if ok else [f"timed out after {args.timeout}s; states {sched.states}"]
    if sched.error:
        problems.append(f"error event: {sched.error}")
    problems += sched.verify()
    driver.stop()
    driver.join()
    print("RESULT " + json.dumps({"ok": not problems, "problems": problems, "states": sched.states}), flush=True)
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
