"""Drives a running `chronos` with the unmodified chronos-python 1.2.1 client.

usage: chronos_scenario.py <host:port> <work dir>

Every job's command appends a line to a file under <work dir>, so the test can count the runs
the tasks really made (not only what the API says). Exits 0 when every check passed.
"""

import os
import sys
import time

import chronos

server, work = sys.argv[1], sys.argv[2]
c = chronos.connect([server])


def log(*a):
    print(*a, flush=True)


def wait(what, cond, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


def job(name):
    found = [j for j in c.list() if j["name"] == name]
    return found[0] if found else None


def lines(name):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def cmd(name, extra=""):
    return "echo $mesos_task_id >> %s %s" % (os.path.join(work, name), extra)


base = {"owner": "ops@example.com", "disabled": False}

# A job every 2 seconds runs again and again.
c.add(dict(base, name="tick", command=cmd("tick"), schedule="R//PT2S"))
seen = []
for want in (1, 2, 3):
    wait("tick run %d" % want, lambda: job("tick")["successCount"] >= want)
    seen.append(job("tick")["successCount"])
assert seen == sorted(seen) and seen[-1] >= 3, seen
log("tick successCount", seen, "runs", len(lines("tick")))

# A dependent job runs after its parent.
c.add(dict(base, name="parent", command=cmd("parent", "; sleep 1"), schedule="R1//PT1H"))
c.add(dict(base, name="child", command=cmd("child"), parents=["parent"]))
wait("child", lambda: job("child")["successCount"] == 1)
p, ch = job("parent"), job("child")
assert p["successCount"] == 1 and ch["lastSuccess"] > p["lastSuccess"], (p, ch)
log("child ran after parent", p["lastSuccess"], ch["lastSuccess"])

# retries: 2 -> three tries, then one error.
c.add(dict(base, name="failing", command=cmd("failing", "; exit 3"), schedule="R1//PT1H", retries=2))
wait("failing error", lambda: job("failing")["errorCount"] == 1, timeout=90)
time.sleep(2)
f = job("failing")
assert len(lines("failing")) == 3, lines("failing")
assert f["errorCount"] == 1 and f["successCount"] == 0 and f["errorsSinceLastSuccess"] == 1, f
log("failing tried", lines("failing"))

# A manual run of a job whose schedule never fires (R0).
c.add(dict(base, name="manual", command=cmd("manual"), schedule="R0//PT1H"))
time.sleep(1)
assert job("manual")["successCount"] == 0
c.run("manual")
wait("manual run", lambda: job("manual")["successCount"] == 1)
log("manual ran", lines("manual"))

# Search by name and by command.
assert [j["name"] for j in c.search(name="MANU")] == ["manual"]
assert "child" in [j["name"] for j in c.search(command="child")]

# Views the client offers.
assert "link,parent,child" in c.scheduler_graph()
stat = c.job_stat("tick")
assert stat["histogram"]["count"] >= 1, stat
assert any(s["jobNameLabel"] == "tick" for s in c.scheduler_stat_99th())
assert "gauges" in c.metrics()

# Bad input: 400 with a message, nothing stored.
before = sorted((j["name"], j.get("schedule"), str(j.get("parents"))) for j in c.list())
bad = [
    dict(base, name="bad-schedule", command="true", schedule="R/not-a-date/PT1S"),
    dict(base, name="bad-period", command="true", schedule="R//P"),
    dict(base, name="bad-tz", command="true", schedule="R//PT1S", scheduleTimeZone="Mars/Base"),
    dict(base, name="bad/name", command="true", schedule="R//PT1S"),
    dict(base, name="orphan", command="true", parents=["no-such-job"]),
    dict(base, name="parent", command="true", parents=["child"]),
]
for b in bad:
    try:
        c.add(b)
    except chronos.ChronosAPIError as e:
        log("refused", b["name"], "->", str(e)[:100])
    else:
        raise SystemExit("accepted bad job %r" % b)
after = sorted((j["name"], j.get("schedule"), str(j.get("parents"))) for j in c.list())
names = [a[0] for a in after]
assert not set(n for n in names) & {"bad-schedule", "bad-period", "bad-tz", "bad/name", "orphan"}, names
assert job("parent").get("parents") is None

# Delete.
c.delete("tick")
assert job("tick") is None
n = len(lines("tick"))
time.sleep(5)
assert len(lines("tick")) <= n + 1, "deleted job kept running"
log("deleted tick after", n, "runs")
log("OK")
