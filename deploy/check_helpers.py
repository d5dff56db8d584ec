"""Small helpers for deploy/check.sh, where shell alone gets clumsy.

    free-port                       print a free TCP port on 127.0.0.1
    wait-http URL [options]         poll URL until it answers 200 (and holds --contains)
    post URL [--token T]            POST with an optional bearer token; print the status
    allowlist-env RENDERED          print the Deployment's allowlist settings (SYNCD_SECRET_ENV,
                                    ...), NAME=VALUE a line: validate with what is deployed
    extract-rules RENDERED OUT      write the PrometheusRule's spec (a rules file) to OUT
    dashboard-rules DASHBOARD OUT   write the dashboard's queries as recording rules, so
                                    that `promtool check rules` parses every one of them

Standard library and PyYAML only (both in syncd's venv).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http to localhost)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def wait_http(
    url: str, timeout: float, pid: int | None, contains: str | None, out: Path | None
) -> int:
    """0 once URL answers 200 (with `contains` in the body); 1 on timeout or if `pid` died."""
    deadline = time.monotonic() + timeout
    status = 0
    while True:
        status, body = _get(url)
        if status == 200 and (contains is None or contains in body):
            if out is not None:
                out.write_text(body)
            return 0
        if pid is not None and not _alive(pid):
            sys.stderr.write(f"process {pid} exited while waiting for {url}\n")
            return 1
        if time.monotonic() > deadline:
            wanted = f"200 with {contains!r} in the body" if contains else "200"
            sys.stderr.write(f"{url}: no {wanted} within {timeout:g} s (last status {status})\n")
            return 1
        time.sleep(0.2)


def post(url: str, token: str | None) -> int:
    request = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 (http to localhost)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status: int = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    sys.stdout.write(f"{status}\n")
    return 0


ALLOWLISTS = (
    "SYNCD_SENDGRID_BASE_URLS",
    "SYNCD_SECRET_ENV",
    "SYNCD_SECRET_DIRS",
    "SYNCD_SOURCE_DIRS",
)


def allowlist_env(rendered: Path) -> int:
    """The syncd container's literal allowlist settings, as NAME=VALUE lines."""
    deployments = [
        doc
        for doc in yaml.safe_load_all(rendered.read_text())
        if doc and doc.get("kind") == "Deployment" and doc["metadata"]["name"] == "syncd"
    ]
    if len(deployments) != 1:
        sys.stderr.write(f"{rendered}: expected one Deployment syncd, found {len(deployments)}\n")
        return 1
    for container in deployments[0]["spec"]["template"]["spec"]["containers"]:
        for variable in container.get("env", []):
            if variable["name"] in ALLOWLISTS and "value" in variable:
                sys.stdout.write(f"{variable['name']}={variable['value']}\n")
    return 0


def extract_rules(rendered: Path, out: Path) -> int:
    """The spec of the one PrometheusRule in a rendered kustomization, as a rules file."""
    rules = [
        doc["spec"]
        for doc in yaml.safe_load_all(rendered.read_text())
        if doc and doc.get("kind") == "PrometheusRule"
    ]
    if len(rules) != 1:
        sys.stderr.write(f"{rendered}: expected one PrometheusRule, found {len(rules)}\n")
        return 1
    out.write_text(yaml.safe_dump(rules[0], sort_keys=False))
    return 0


# Grafana's variables, replaced by values of the same kind so that PromQL can parse them.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1d",
    "$job": ".*",
    "$instance": ".*",
    "$destination": ".*",
}


def dashboard_rules(dashboard: Path, out: Path) -> int:
    """Every query of a Grafana dashboard as a recording rule (named after its panel)."""
    exprs: list[str] = []
    for panel in json.loads(dashboard.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs.append(expr)
    if not exprs:
        sys.stderr.write(f"{dashboard}: no queries found\n")
        return 1
    rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
    out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("free-port")
    wait = commands.add_parser("wait-http")
    wait.add_argument("url")
    wait.add_argument("--timeout", type=float, default=20.0)
    wait.add_argument("--pid", type=int, help="give up at once if this process exits")
    wait.add_argument("--contains", help="text the body must hold")
    wait.add_argument("--out", type=Path, help="write the body here")
    send = commands.add_parser("post")
    send.add_argument("url")
    send.add_argument("--token")
    allowlists = commands.add_parser("allowlist-env")
    allowlists.add_argument("rendered", type=Path)
    extract = commands.add_parser("extract-rules")
    extract.add_argument("rendered", type=Path)
    extract.add_argument("out", type=Path)
    queries = commands.add_parser("dashboard-rules")
    queries.add_argument("dashboard", type=Path)
    queries.add_argument("out", type=Path)
    args = parser.parse_args()

    if args.command == "free-port":
        sys.stdout.write(f"{free_port()}\n")
        return 0
    if args.command == "wait-http":
        return wait_http(args.url, args.timeout, args.pid, args.contains, args.out)
    if args.command == "post":
        return post(args.url, args.token)
    if args.command == "dashboard-rules":
        return dashboard_rules(args.dashboard, args.out)
    if args.command == "allowlist-env":
        return allowlist_env(args.rendered)
    return extract_rules(args.rendered, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
