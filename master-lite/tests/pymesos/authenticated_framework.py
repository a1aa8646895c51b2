#!/usr/bin/env python3
"""An unmodified pymesos 0.3.15 scheduler that authenticates with HTTP Basic.

Usage: authenticated_framework.py HOST:PORT PRINCIPAL|- SECRET|- USER [TIMEOUT]

`MesosSchedulerDriver(..., principal=..., secret=...)` sends `Authorization: Basic` on
SUBSCRIBE and on every call; `-` leaves both out. The framework sets no principal of its own
(the master fills it in). It launches one command task as USER and prints one JSON line per
event, then `RESULT {...}` with `registered`, the task's states, and the error that ended the
driver, if any (pymesos aborts its thread and interrupts the main one on an HTTP error).
"""
import json
import socket
import sys
import threading
import time

from addict import Dict
import pymesos.process
from pymesos import MesosSchedulerDriver, Scheduler


def emit(kind, **fields):
    fields["event"] = kind
    print(json.dumps(fields), flush=True)


class OneTask(Scheduler):
    def __init__(self, user):
        self.user = user
        self.registered_id = None
        self.launched = False
        self.states = []
        self.messages = []
        self.done = threading.Event()

    def registered(self, driver, framework_id, master_info):
        self.registered_id = framework_id.value
        emit("registered", framework_id=framework_id.value)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            if self.launched:
                driver.declineOffer(offer.id)
                continue
            self.launched = True
            t = Dict()
            t.task_id.value = "auth-task"
            t.agent_id.value = offer.agent_id.value
            t.name = "auth-task"
            t.command.value = "echo authenticated"
            t.command.user = self.user
            t.resources = [
                Dict(name="cpus", type="SCALAR", scalar=Dict(value=0.1)),
                Dict(name="mem", type="SCALAR", scalar=Dict(value=32)),
            ]
            emit("launch", offer_id=offer.id.value)
            driver.launchTasks(offer.id, [t])

    def statusUpdate(self, driver, update):
        self.states.append(update.state)
        self.messages.append(update.get("message"))
        emit("update", state=update.state, reason=update.get("reason"),
             message=update.get("message"))
        if update.state in ("TASK_FINISHED", "TASK_FAILED", "TASK_ERROR", "TASK_LOST",
                            "TASK_KILLED", "TASK_DROPPED"):
            self.done.set()

    def error(self, driver, message):
        emit("error", message=message)
        self.messages.append(message)
        self.done.set()


def main():
    master, principal, secret, user = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60
    creds = {} if principal == "-" else {"principal": principal, "secret": secret}
    sched = OneTask(user)
    framework = Dict(user=user, name="meseta-authenticated", hostname=socket.gethostname())
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True, **creds)
    failure = None
    try:
        driver.start()
        # Short waits: pymesos interrupts the main thread with a flag, which a long blocking
        # wait would only notice at its end.
        deadline = time.time() + timeout
        while not sched.done.wait(0.2) and time.time() < deadline:
            pass
    except (KeyboardInterrupt, RuntimeError) as e:
        # pymesos re-raises its IO thread's error in the main thread (or interrupts it).
        exc = pymesos.process._exc_info
        failure = str(exc[1]) if exc else str(e) or "interrupted"
    try:
        driver.stop()
        driver.join()
    except Exception as e:  # the driver's thread may already be gone
        failure = failure or str(e)
    print("RESULT " + json.dumps({"registered": sched.registered_id is not None,
                                  "states": sched.states, "messages": sched.messages,
                                  "failure": failure}), flush=True)


if __name__ == "__main__":
    main()
