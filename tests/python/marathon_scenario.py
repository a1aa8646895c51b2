"""Drives a running `marathon` with the unmodified marathon-python client (PyPI `marathon`):
create, list, scale, restart, rolling update, task kill and replacement, kill with scale,
deployments, delete. Usage: marathon_scenario.py http://127.0.0.1:<port>. Prints OK at the end;
any failure raises (non-zero exit) with what was seen.
"""

import sys
import time

from marathon import MarathonClient
from marathon.exceptions import NotFoundError
from marathon.models import MarathonApp
from marathon.models.app import MarathonUpgradeStrategy

APP = "/e2e/web"


def wait(what, cond, timeout=60):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def running_ids(c):
    return sorted(t.id for t in c.list_tasks(app_id=APP) if t.state == "TASK_RUNNING")


def settled(c, n):
    app = c.get_app(APP)
    ids = running_ids(c)
    if app.tasks_running == n and len(ids) == n and not c.list_deployments():
        return ids
    return None


def main(url):
    c = MarathonClient(url)
    assert c.ping() is not None
    created = c.create_app(APP, MarathonApp(cmd="sleep 1000", cpus=0.05, mem=16, instances=2,
                                            labels={"team": "e2e"}))
    assert created.id == APP, created
    assert created.deployments, "a new app reports its deployment"
    first = wait("2 running tasks", lambda: settled(c, 2))
    assert [a.id for a in c.list_apps()] == [APP]
    assert [a.id for a in c.list_apps(label="team==e2e")] == [APP]
    assert c.list_apps(cmd="no-such-command") == []
    assert all(t.id.startswith("e2e_web.") for t in c.list_tasks(app_id=APP)), first
    embedded = c.list_apps(embed_tasks=True)[0]
    assert len(embedded.tasks) == 2, embedded.tasks

    # Scale up: the two tasks stay, one more comes.
    c.scale_app(APP, instances=3)
    scaled = wait("3 running tasks", lambda: settled(c, 3))
    assert set(first) <= set(scaled), (first, scaled)

    # Restart: every task is replaced.
    c.restart_app(APP)
    restarted = wait("restarted tasks", lambda: (lambda ids: ids if ids and not set(ids) & set(scaled) else None)(settled(c, 3)))

    # Rolling update of the command within the upgrade strategy.
    app = c.get_app(APP)
    app.cmd = "sleep 2000"
    app.upgrade_strategy = MarathonUpgradeStrategy(minimum_health_capacity=0.5, maximum_over_capacity=0.0)
    dep = c.update_app(APP, app)
    assert "deploymentId" in dep, dep
    assert any(d.id == dep["deploymentId"] for d in c.list_deployments()) or settled(c, 3)
    updated = wait("updated tasks", lambda: (lambda ids: ids if ids and not set(ids) & set(restarted) else None)(settled(c, 3)))
    assert c.get_app(APP).cmd == "sleep 2000"
    versions = c.list_versions(APP)
    assert len(versions) >= 4, versions

    # Kill one task: it is replaced.
    victim = updated[0]
    c.kill_task(APP, victim)
    replaced = wait("a replacement task", lambda: (lambda ids: ids if ids and victim not in ids else None)(settled(c, 3)))

    # Kill with scale: the app shrinks.
    c.kill_task(APP, replaced[0], scale=True)
    wait("2 instances after kill with scale", lambda: c.get_app(APP).instances == 2 and settled(c, 2))

    # Kill several through /v2/tasks/delete with scale.
    ids = running_ids(c)
    assert c.kill_given_tasks([ids[0]], scale=True)
    wait("1 instance after /v2/tasks/delete", lambda: c.get_app(APP).instances == 1 and settled(c, 1))

    # Delete.
    c.delete_app(APP)
    try:
        c.get_app(APP)
        raise AssertionError("deleted app still served")
    except NotFoundError:
        pass
    wait("no tasks after delete", lambda: not c.list_tasks() and not c.list_deployments())
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1])
