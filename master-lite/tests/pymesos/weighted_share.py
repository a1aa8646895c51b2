# Two unmodified pymesos 0.3.15 MesosSchedulerDriver frameworks, each in its own role, share one
# real agent. Each launches one equal long-running task ("sleep") per offer it receives, declines
# what does not fit, and keeps going until the agent is full; the caller then reads the split
# from the master. Offers are only used once both frameworks are registered, so neither gets a
# head start. Closing stdin tears both frameworks down (their tasks are killed) and exits.
# Usage: weighted_share.py <master host:port> <role>,<role> <cpus per task> <mem per task>
import json, os, sys, threading, time
sys.path.insert(0, os.environ.get("PYMESOS_PYTHONPATH", ""))
from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler

MASTER = sys.argv[1]
ROLES = sys.argv[2].split(",")
CPUS, MEM = float(sys.argv[3]), float(sys.argv[4])
both = threading.Barrier(len(ROLES))
ready = threading.Event()
out = threading.Lock()


def emit(**fields):
    with out:
        print(json.dumps(fields), flush=True)


def scalar(offer, name):
    return sum(r.scalar.value for r in offer.resources if r.name == name and r.type == "SCALAR")


class OneTaskPerOffer(Scheduler):
    def __init__(self, role):
        self.role, self.launched = role, 0

    def registered(self, driver, framework_id, master_info):
        emit(event="registered", role=self.role, framework_id=framework_id.value)
        threading.Thread(target=lambda: (both.wait(), ready.set()), daemon=True).start()

    def resourceOffers(self, driver, offers):
        for o in offers:
            if not ready.is_set():
                driver.declineOffer(o.id, Dict(refuse_seconds=0.2))
                continue
            if scalar(o, "cpus") + 1e-9 < CPUS or scalar(o, "mem") + 1e-9 < MEM:
                # Full for us; ask again later in case something frees up.
                driver.declineOffer(o.id, Dict(refuse_seconds=1))
                continue
            tid = "%s-%d" % (self.role, self.launched)
            self.launched += 1
            task = Dict(task_id=Dict(value=tid), agent_id=o.agent_id, name=tid,
                        command=Dict(value="sleep 600"),
                        resources=[Dict(name="cpus", type="SCALAR", scalar=Dict(value=CPUS)),
                                   Dict(name="mem", type="SCALAR", scalar=Dict(value=MEM))])
            # The rest of the offer goes back at once (no filter), as DRF expects.
            driver.launchTasks(o.id, [task], Dict(refuse_seconds=0))
            emit(event="launched", role=self.role, task=tid)

    def statusUpdate(self, driver, status):
        emit(event="update", role=self.role, task=status.task_id.value, state=status.state)


drivers = []
for role in ROLES:
    info = Dict(user="root", name="weighted-" + role, role=role, failover_timeout=0)
    d = MesosSchedulerDriver(OneTaskPerOffer(role), info, MASTER, use_addict=True)
    d.start()
    drivers.append(d)
sys.stdin.read()
for d in drivers:
    d.stop()
for d in drivers:
    d.join()
emit(event="stopped")
