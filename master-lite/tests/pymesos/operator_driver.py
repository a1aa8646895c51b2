# Unmodified pymesos 0.3.15 MesosOperatorMasterDriver against mesos-master (POST
# /api/v1/operator). Usage: operator_driver.py <master port>
import os, sys
sys.path.insert(0, os.environ.get("PYMESOS_PYTHONPATH", ""))
from pymesos.operator_v1 import MesosOperatorMasterDriver

d = MesosOperatorMasterDriver("127.0.0.1:%s" % sys.argv[1], None)
assert d.getHealth()["get_health"]["healthy"] is True
assert d.getVersion()["get_version"]["version_info"]["version"]
assert any(f["name"] == "work_dir" for f in d.getFlags()["get_flags"]["flags"])
d.updateWeights([{"role": "web", "weight": 2.0}])
assert d.getWeights()["get_weights"]["weight_infos"] == [{"role": "web", "weight": 2.0}]
roles = d.getRoles()["get_roles"]["roles"]
assert {"name": "web", "weight": 2.0} in roles, roles
d.setQuota({"role": "web", "force": True, "guarantee": [
    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}]})
cfg = d.getQuota()["get_quota"]["status"]["configs"][0]
assert cfg["role"] == "web" and cfg["limits"]["cpus"]["value"] == 1.0, cfg
d.removeQuota("web")
assert d.getQuota()["get_quota"] == {"status": {}}
assert d.getAgents()["type"] == "GET_AGENTS"
assert d.getState()["type"] == "GET_STATE"
try:
    d.updateWeights([{"role": "..", "weight": 2.0}])
    raise SystemExit("'..' accepted")
except RuntimeError as e:
    assert "code=400" in str(e), e
print("PYMESOS OPERATOR OK")
