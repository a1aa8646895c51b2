"""An unmodified pymesos scheduler on a zk:// master URL (pymesos follows the leader with
kazoo). Launches N `sleep 600` tasks, prints ALL_RUNNING <framework id>, then waits for a
RECONCILE line on stdin (sent once the leader was killed and a new one took over), waits to
be re-registered, reconciles every task and prints RECONCILED <json>. Exits 0 only if every
task reconciled TASK_RUNNING and no terminal update was ever received.

usage: follow_leader.py <zk://...> <n>
"""
import json
import logging
import sys
import threading
import time

from pymesos import MesosSchedulerDriver, Scheduler

MASTER, N = sys.argv[1], int(sys.argv[2])
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
            "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"}


def say(*parts):
    print(*parts, flush=True)


class Follower(Scheduler):
    def __init__(self):
        self.lock = threading.Lock()
        self.launched = []
        self.states = {}
        self.reconciled = {}
        self.terminal = []
        self.all_running = threading.Event()
        self.reregistered_event = threading.Event()

    def registered(self, driver, framework_id, master_info):
        say("REGISTERED", framework_id["value"])

    def reregistered(self, driver, master_info):
        say("REREGISTERED", json.dumps(master_info))
        self.reregistered_event.set()

    def resourceOffers(self, driver, offers):
        for offer in offers:
            with self.lock:
                want = N - len(self.launched)
                ids = ["task-%d" % (len(self.launched) + i) for i in range(max(want, 0))]
                self.launched.extend(ids)
            if not ids:
                driver.declineOffer(offer["id"], {"refuse_seconds": 3600})
                continue
            tasks = [{
                "name": t, "task_id": {"value": t}, "agent_id": offer["agent_id"],
                "command": {"value": "sleep 600"},
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
                ],
            } for t in ids]
            driver.launchTasks(offer["id"], tasks)

    def statusUpdate(self, driver, update):
        task, state = update["task_id"]["value"], update["state"]
        reason = update.get("reason", "")
        say("UPDATE", task, state, reason)
        with self.lock:
            self.states[task] = state
            if state in TERMINAL:
                self.terminal.append((task, state, reason, update.get("message", "")))
            if reason == "REASON_RECONCILIATION":
                self.reconciled[task] = state
            if len(self.launched) == N and all(
                    self.states.get(t) == "TASK_RUNNING" for t in self.launched):
                self.all_running.set()

    def disconnected(self, driver):
        say("DISCONNECTED")


def main():
    logging.basicConfig(level=logging.WARNING)
    sched = Follower()
    framework = {"user": "root", "name": "follow-leader", "failover_timeout": 3600,
                 "hostname": "localhost"}
    driver = MesosSchedulerDriver(sched, framework, MASTER, use_addict=True)
    driver.start()
    ok = False
    try:
        if not sched.all_running.wait(120):
            say("TIMEOUT waiting for the tasks to run", json.dumps(sched.states))
            return 1
        say("ALL_RUNNING", driver.framework_id)
        if sys.stdin.readline().strip() != "RECONCILE":
            return 1
        if not sched.reregistered_event.wait(120):
            say("TIMEOUT waiting to re-register")
            return 1
        deadline = time.time() + 60
        while time.time() < deadline:
            with sched.lock:
                sched.reconciled.clear()
                tasks = [{"task_id": {"value": t}} for t in sched.launched]
            driver.reconcileTasks(tasks)
            time.sleep(2)
            with sched.lock:
                if len(sched.reconciled) == N:
                    break
        with sched.lock:
            say("RECONCILED", json.dumps(sched.reconciled, sort_keys=True))
            say("TERMINAL", json.dumps(sched.terminal))
            ok = (len(sched.reconciled) == N
                  and all(s == "TASK_RUNNING" for s in sched.reconciled.values())
                  and not sched.terminal)
        return 0 if ok else 1
    finally:
        # Keep the framework (and its tasks) registered: the test inspects them afterwards.
        driver.stop(failover=True)


if __name__ == "__main__":
    sys.exit(main())
