"""The PostgreSQL-mode overlay: several replicas, rolling updates, a disruption budget."""

from __future__ import annotations

from tests.deploy.conftest import Manifest, one


def container(manifests: list[Manifest]) -> Manifest:
    pod = one(manifests, "Deployment", "syncd")["spec"]["template"]["spec"]
    found: Manifest = pod["containers"][0]
    return found


def test_several_replicas_roll_one_at_a_time(postgresql: list[Manifest]) -> None:
    spec = one(postgresql, "Deployment", "syncd")["spec"]
    assert spec["replicas"] > 1
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_a_disruption_budget_keeps_all_but_one_replica(postgresql: list[Manifest]) -> None:
    budget = one(postgresql, "PodDisruptionBudget", "syncd")["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"]["matchLabels"] == {"app.kubernetes.io/name": "syncd"}


def test_the_ledger_is_a_postgresql_dsn_from_a_secret_and_no_volume_claim(
    postgresql: list[Manifest],
) -> None:
    env = {e["name"]: e for e in container(postgresql)["env"]}
    assert "value" not in env["SYNCD_STATE"]
    assert env["SYNCD_STATE"]["valueFrom"]["secretKeyRef"] == {"name": "syncd-ledger", "key": "dsn"}
    assert env["SYNCD_REPLICA_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert not [m for m in postgresql if m["kind"] == "PersistentVolumeClaim"]
    volumes = one(postgresql, "Deployment", "syncd")["spec"]["template"]["spec"]["volumes"]
    assert all("persistentVolumeClaim" not in v for v in volumes)


def test_postgresql_egress_is_allowed(postgresql: list[Manifest]) -> None:
    policies = [m for m in postgresql if m["kind"] == "NetworkPolicy"]
    ports = {
        p["port"]
        for m in policies
        for rule in m["spec"].get("egress", [])
        for p in rule.get("ports", [])
    }
    assert 5432 in ports
