# Unmodified pymesos 0.3.15 MesosSchedulerDriver against mesos-master, with a fake agent
# speaking meseta_api::internal. Usage: scheduler_and_fake_agent.py <master port> [tasks]
import base64, http.client, json, os, socket, sys, threading, time, uuid
sys.path.insert(0, os.environ.get("PYMESOS_PYTHONPATH", ""))
from pymesos import MesosSchedulerDriver, Scheduler
import logging; logging.basicConfig(level=logging.WARNING)
PORT = int(sys.argv[1]); N = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PATH = "/api/v1/internal/agent"
acks = []

def post(body):
    c = http.client.HTTPConnection("127.0.0.1", PORT)
    c.request("POST", PATH, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); r.read(); c.close(); return r.status

def agent():
    c = http.client.HTTPConnection("127.0.0.1", PORT)
    info = {"hostname": "fake", "resources": [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 100000}},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31100}]}}]}
    c.request("POST", PATH, json.dumps({"type": "SUBSCRIBE", "subscribe": {"agent_info": info}}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    buf = b""; aid = None
    while True:
        d = r.read1(65536)
        if not d: return
        buf += d
        while b"\n" in buf:
            n, rest = buf.split(b"\n", 1)
            n = int(n)
            if len(rest) < n: break
            ev = json.loads(rest[:n]); buf = rest[n:]
            t = ev["type"]
            if t == "REGISTERED": aid = ev["registered"]["agent_id"]["value"]
            elif t == "RUN_TASK":
                fw = ev["run_task"]["framework"]["id"]["value"]
                tid = ev["run_task"]["task"]["task_id"]["value"]
                for st in ["TASK_RUNNING", "TASK_FINISHED"]:
                    u = base64.b64encode(uuid.uuid4().bytes).decode()
                    assert post({"type": "STATUS_UPDATE", "agent_id": {"value": aid}, "status_update": {
                        "framework_id": {"value": fw}, "status": {"task_id": {"value": tid}, "state": st, "uuid": u},
                        "timestamp": time.time(), "uuid": u}}) == 202
            elif t == "ACKNOWLEDGE": acks.append(ev["acknowledge"]["task_id"]["value"])

threading.Thread(target=agent, daemon=True).start()
time.sleep(0.5)

class S(Scheduler):
    def __init__(self): self.launched = 0; self.finished = 0; self.states = []
    def registered(self, d, fid, mi): print("registered", fid, mi)
    def resourceOffers(self, d, offers):
        for o in offers:
            if self.launched >= N:
                d.declineOffer(o.id, {"refuse_seconds": 60}); continue
            cpus = sum(r.scalar.value for r in o.resources if r.name == "cpus")
            k = min(int(cpus / 0.1 + 1e-9), N - self.launched)
            if k == 0:
                d.declineOffer(o.id, {"refuse_seconds": 0.1}); continue
            tasks = []
            for _ in range(k):
                tid = "t%d" % self.launched; self.launched += 1
                tasks.append({"task_id": {"value": tid}, "agent_id": o.agent_id, "name": tid,
                    "command": {"value": "true"},
                    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                                  {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]})
            d.launchTasks(o.id, tasks, {"refuse_seconds": 0})
    def statusUpdate(self, d, st):
        self.states.append((st.task_id.value, st.state))
        if st.state == "TASK_FINISHED":
            self.finished += 1
            if self.finished == N: d.stop()

s = S()
d = MesosSchedulerDriver(s, {"user": "root", "name": "pymesos-test"}, "127.0.0.1:%d" % PORT, use_addict=True)
t0 = time.time(); d.run()
time.sleep(0.5)

print("elapsed", time.time() - t0)
assert s.finished == N and len(acks) == 2 * N, (s.finished, len(acks))
print("PYMESOS OK")
