"""The rendered Kubernetes manifests keep the properties syncd's correctness relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from syncd.settings import Settings
from tests.deploy.conftest import DEPLOY, Manifest, one

SECRET_DIR = "/var/run/secrets/sendgrid"
ALLOWLISTS = (
    "SYNCD_SENDGRID_BASE_URLS",
    "SYNCD_SECRET_ENV",
    "SYNCD_SECRET_DIRS",
    "SYNCD_SOURCE_DIRS",
)


def pod_spec(manifests: list[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = one(manifests, "Deployment", "syncd")["spec"]["template"]["spec"]
    return spec


def container(manifests: list[Manifest]) -> dict[str, Any]:
    containers = pod_spec(manifests)["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


def env(manifests: list[Manifest]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(manifests).get("env", [])}


def mount_of(manifests: list[Manifest], volume: str) -> dict[str, Any]:
    mounts = [m for m in container(manifests)["volumeMounts"] if m["name"] == volume]
    assert len(mounts) == 1, f"volume {volume} should be mounted once"
    found: dict[str, Any] = mounts[0]
    return found


def volume(manifests: list[Manifest], source: str) -> dict[str, Any]:
    volumes = [v for v in pod_spec(manifests)["volumes"] if source in v]
    assert len(volumes) == 1, f"expected one {source} volume"
    found: dict[str, Any] = volumes[0]
    return found


def test_one_replica_replaced_by_recreate_because_the_sqlite_ledger_has_one_writer(
    rendered: list[Manifest],
) -> None:
    spec = one(rendered, "Deployment", "syncd")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    claim = volume(rendered, "persistentVolumeClaim")["persistentVolumeClaim"]["claimName"]
    pvc = one(rendered, "PersistentVolumeClaim", claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    state = env(rendered)["SYNCD_STATE"]
    assert Path(state).parent == Path(
        mount_of(rendered, volume(rendered, "persistentVolumeClaim")["name"])["mountPath"]
    )


def test_the_pod_runs_restricted_non_root_with_a_read_only_root_filesystem(
    rendered: list[Manifest],
) -> None:
    pod = pod_spec(rendered)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] > 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    own = container(rendered)["securityContext"]
    assert own["runAsNonRoot"] is True
    assert own["readOnlyRootFilesystem"] is True
    assert own["allowPrivilegeEscalation"] is False
    assert own["capabilities"] == {"drop": ["ALL"]}


def test_tmp_is_a_writable_empty_dir_for_sqlite_temporary_files(rendered: list[Manifest]) -> None:
    tmp = volume(rendered, "emptyDir")
    assert mount_of(rendered, tmp["name"])["mountPath"] == "/tmp"
    assert env(rendered)["SQLITE_TMPDIR"] == "/tmp"


def test_no_volume_is_mounted_with_sub_path_so_updates_reach_the_pod(
    rendered: list[Manifest],
) -> None:
    for manifest in rendered:
        assert "subPath" not in yaml.safe_dump(manifest), manifest["metadata"]["name"]


def test_the_grace_period_outlasts_the_shutdown_timeout(rendered: list[Manifest]) -> None:
    timeout = float(env(rendered).get("SYNCD_SHUTDOWN_TIMEOUT") or Settings().shutdown_timeout)
    # A margin for the in-flight request's own timeout to be cut short and the exit.
    assert pod_spec(rendered)["terminationGracePeriodSeconds"] >= timeout + 5


def test_probes_check_healthz_and_readyz_on_the_metrics_listener(
    rendered: list[Manifest],
) -> None:
    own = container(rendered)
    assert own["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert own["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in own["ports"]}
    for setting, name in (("SYNCD_LISTEN", "admin"), ("SYNCD_METRICS_LISTEN", "metrics")):
        host, _, port = env(rendered)[setting].rpartition(":")
        assert host == "0.0.0.0"  # the kubelet and Prometheus come from outside the pod
        assert ports[name] == int(port)
    # Their own listener: a flood of connections to the admin port cannot fail them.
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert own[probe]["httpGet"]["port"] == "metrics"


def test_the_admin_token_is_required_since_the_admin_port_is_open_beyond_loopback(
    rendered: list[Manifest],
) -> None:
    (token,) = [v for v in container(rendered)["env"] if v["name"] == "SYNCD_ADMIN_TOKEN"]
    reference = token["valueFrom"]["secretKeyRef"]
    assert reference["name"] == "syncd-admin"
    assert reference.get("optional", False) is False  # syncd would refuse to start


def test_the_sendgrid_key_is_a_secret_mounted_as_a_directory_and_never_an_env_var(
    rendered: list[Manifest],
) -> None:
    secret = volume(rendered, "secret")
    assert secret["secret"]["secretName"] == "syncd-sendgrid"
    mount = mount_of(rendered, secret["name"])
    assert mount == {"name": secret["name"], "mountPath": SECRET_DIR, "readOnly": True}
    for variable in container(rendered).get("env", []):
        assert "SENDGRID" not in variable["name"]


def test_the_destination_files_are_the_stable_config_map_mounted_where_syncd_reads(
    rendered: list[Manifest],
) -> None:
    config_map = volume(rendered, "configMap")["configMap"]["name"]
    # No hash suffix: an edited file is hot-reloaded, not rolled out (base kustomization).
    assert config_map == "syncd-destinations"
    one(rendered, "ConfigMap", config_map)
    mount = mount_of(rendered, volume(rendered, "configMap")["name"])
    assert mount["mountPath"] == env(rendered)["SYNCD_DESTINATIONS"]
    assert mount["readOnly"] is True


def test_the_example_ships_every_destination_file_of_its_directory(
    example: list[Manifest],
) -> None:
    data = one(example, "ConfigMap", "syncd-destinations")["data"]
    on_disk = {p.name for p in (DEPLOY / "overlays" / "example" / "destinations.d").glob("*.y*ml")}
    assert set(data) == on_disk


def test_the_example_destination_files_are_valid_with_the_allowlists_it_deploys(
    example: list[Manifest], tmp_path: Path
) -> None:
    for name, text in one(example, "ConfigMap", "syncd-destinations")["data"].items():
        (tmp_path / name).write_text(text)
        key = yaml.safe_load(text)["spec"]["sendgrid"]["apiKey"]
        assert key == {"file": f"{SECRET_DIR}/api-key"}, name
    deployed = {k: v for k, v in env(example).items() if k in ALLOWLISTS}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    result = subprocess.run(
        [sys.executable, "-m", "syncd", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**inherited, **deployed},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    without = subprocess.run(
        [sys.executable, "-m", "syncd", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=inherited,
    )
    assert "WAREHOUSE_DSN is not an allowed environment variable" in without.stdout


def test_the_example_destinations_env_references_are_set_in_the_pod(
    example: list[Manifest],
) -> None:
    names = {e["name"] for e in container(example)["env"]}
    for text in one(example, "ConfigMap", "syncd-destinations")["data"].values():
        for segment in yaml.safe_load(text)["spec"]["segments"]:
            for source in segment["source"].values():
                reference = source.get("dsn", {})
                if "env" in reference:
                    assert reference["env"] in names


def test_the_pod_gets_no_kubernetes_token_and_no_service_links(rendered: list[Manifest]) -> None:
    account = one(rendered, "ServiceAccount", pod_spec(rendered)["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    assert pod_spec(rendered)["automountServiceAccountToken"] is False
    # A Service named syncd would inject SYNCD_* variables into syncd's own settings.
    assert pod_spec(rendered)["enableServiceLinks"] is False


def test_resources_are_requested_and_memory_is_limited(rendered: list[Manifest]) -> None:
    resources = container(rendered)["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]


def test_the_service_and_service_monitor_scrape_the_metrics_port(rendered: list[Manifest]) -> None:
    pod_labels = one(rendered, "Deployment", "syncd")["spec"]["template"]["metadata"]["labels"]
    service = one(rendered, "Service", "syncd")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    monitor = one(rendered, "ServiceMonitor", "syncd")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["path"] == "/metrics"
        assert ports[endpoint["port"]]["targetPort"] == "metrics"
    assert ports["admin"]["targetPort"] == "admin"
    # The scrape's job label is the Service's name: SyncdAbsent looks for job="syncd".
    assert service["metadata"]["name"] == "syncd"


def test_the_network_policy_allows_only_https_and_dns_out(base: list[Manifest]) -> None:
    policy = one(base, "NetworkPolicy", "syncd")["spec"]
    pod_labels = one(base, "Deployment", "syncd")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    allowed = sorted(
        (port["protocol"], port["port"]) for rule in policy["egress"] for port in rule["ports"]
    )
    assert allowed == [("TCP", 53), ("TCP", 443), ("UDP", 53)]


def test_the_network_policy_admits_each_port_only_from_the_namespaces_meant_for_it(
    rendered: list[Manifest],
) -> None:
    policy = one(rendered, "NetworkPolicy", "syncd")["spec"]
    ports = {p["name"]: p["containerPort"] for p in container(rendered)["ports"]}
    by_port = {
        port["port"]: rule.get("from") for rule in policy["ingress"] for port in rule["ports"]
    }
    assert sorted(by_port) == sorted(ports.values())
    for sources in by_port.values():  # never `from` anywhere
        assert sources
        assert all(set(s) == {"namespaceSelector"} for s in sources)
    assert by_port[ports["metrics"]] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_the_example_adds_postgres_egress_in_its_own_policy(example: list[Manifest]) -> None:
    policy = one(example, "NetworkPolicy", "syncd-postgres")["spec"]
    assert policy["policyTypes"] == ["Egress"]
    ports = [p["port"] for rule in policy["egress"] for p in rule["ports"]]
    assert ports == [5432]


def test_the_example_puts_everything_in_a_restricted_namespace(example: list[Manifest]) -> None:
    namespace = one(example, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for manifest in example:
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == namespace["metadata"]["name"]
