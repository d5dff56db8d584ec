#!/usr/bin/env bash
# Checks everything syncd deploys, without a cluster or a container engine:
#   - kustomize renders deploy/base, deploy/overlays/example and deploy/overlays/postgresql;
#   - kubernetes-validate --strict checks every rendered object against the
#     Kubernetes API schemas;
#   - hadolint lints the Dockerfile;
#   - promtool checks the alert rules (the plain file and the PrometheusRule's copy),
#     runs their unit tests, and lints a real /metrics scrape of a running syncd.
# `make test` runs it (make deploy-check) after `make install`. Every step runs even
# when an earlier one failed; the summary lists the failures and the exit status is 1.
#
# promtool comes from Debian's `prometheus` package, extracted into .tools/ (no server
# is installed or started); set PROMTOOL=/path/to/promtool to use another one.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
TOOLS=.tools
WORK=$(mktemp -d "${TMPDIR:-/tmp}/syncd-deploy-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

helper() { "$BIN/python" deploy/check_helpers.py "$@"; }

# --- promtool ------------------------------------------------------------------------

# Sets PROMTOOL: $PROMTOOL if given, else .tools/promtool, fetched once from Debian's
# package archive with apt-get download + dpkg-deb -x (the package is not installed).
ensure_promtool() {
    if [ -n "${PROMTOOL:-}" ]; then
        return 0
    fi
    if [ -x "$TOOLS/promtool" ]; then
        PROMTOOL=$TOOLS/promtool
        return 0
    fi
    local cmd
    for cmd in apt-get dpkg-deb; do
        if ! command -v "$cmd" >/dev/null; then
            echo "promtool: $cmd not found; on a non-Debian machine set PROMTOOL=/path/to/promtool" >&2
            return 1
        fi
    done
    local download=$WORK/promtool-download
    mkdir -p "$download"
    # As root, apt would drop to its `_apt` user, who cannot write to our temp dir.
    local sandbox=()
    if [ "$(id -u)" = 0 ]; then
        sandbox=(-o APT::Sandbox::User=root)
    fi
    echo "promtool: fetching Debian's prometheus package into $TOOLS/ (once)"
    if ! (cd "$download" && apt-get -q "${sandbox[@]}" download prometheus); then
        # Usually missing or stale package lists (a fresh machine or container).
        if [ "$(id -u)" = 0 ]; then
            echo "promtool: refreshing the package lists (apt-get update)"
            apt-get -q update >/dev/null &&
                (cd "$download" && apt-get -q "${sandbox[@]}" download prometheus) || return 1
        else
            echo "promtool: 'apt-get download prometheus' failed; the package lists are" \
                "probably missing: run 'sudo apt-get update' and retry, or set" \
                "PROMTOOL=/path/to/promtool" >&2
            return 1
        fi
    fi
    dpkg-deb -x "$download"/prometheus_*.deb "$download/root" || return 1
    mkdir -p "$TOOLS"
    # Copy then rename: an interrupted run never leaves a half-written binary behind.
    cp "$download/root/usr/bin/promtool" "$TOOLS/promtool.partial" &&
        mv "$TOOLS/promtool.partial" "$TOOLS/promtool" || return 1
    PROMTOOL=$TOOLS/promtool
}

# --- steps -------------------------------------------------------------------------
# Each runs in a subshell with `set -e` (as `( set -e; step )`, outside any `if`, or
# bash would ignore -e): its first failing command fails the step.

render() {
    "$BIN/kubectl" kustomize deploy/base >"$WORK/base.yaml"
    "$BIN/kubectl" kustomize deploy/overlays/example >"$WORK/example.yaml"
    "$BIN/kubectl" kustomize deploy/overlays/postgresql >"$WORK/postgresql.yaml"
    echo "rendered $(grep -c '^kind:' "$WORK/base.yaml") objects (base)," \
        "$(grep -c '^kind:' "$WORK/example.yaml") (example overlay)," \
        "$(grep -c '^kind:' "$WORK/postgresql.yaml") (postgresql overlay)"
}

# kubernetes-validate has schemas for Kubernetes' own kinds only: for a custom resource
# it prints "WARN ... Couldn't find schema" and passes it. That is accepted for the
# Prometheus Operator's two kinds alone (promtool checks the PrometheusRule's rules,
# tests/deploy the ServiceMonitor's fields); any other kind without a schema fails.
validate_manifests() {
    local out=$WORK/kubernetes-validate.txt rc=0
    "$BIN/kubernetes-validate" --strict --quiet "$WORK/base.yaml" "$WORK/example.yaml" \
        "$WORK/postgresql.yaml" \
        >"$out" 2>&1 || rc=$?
    cat "$out"
    [ "$rc" = 0 ]
    if grep '^WARN' "$out" | grep -v -E 'for kind (ServiceMonitor|PrometheusRule) with api version monitoring\.coreos\.com/v1 '; then
        echo "objects above have no schema and were not validated" >&2
        return 1
    fi
    echo "every Kubernetes object is valid (strict); ServiceMonitor and PrometheusRule have no schema there"
}

# With the allowlists the example deploys (SYNCD_SECRET_ENV names WAREHOUSE_DSN): the
# files must pass with exactly the settings the daemon will hold them to.
validate_example_destinations() {
    local settings
    mapfile -t settings < <(helper allowlist-env "$WORK/example.yaml")
    echo "with: ${settings[*]:-the defaults}"
    env "${settings[@]}" "$BIN/syncd" validate deploy/overlays/example/destinations.d
}

lint_dockerfile() {
    "$BIN/hadolint" Dockerfile
    echo "Dockerfile: no findings"
}

prometheusrule_in_sync() {
    deploy/prometheus/generate-prometheusrule.sh --check
    echo "deploy/base/prometheusrule.yaml embeds deploy/prometheus/syncd-alerts.rules.yaml"
}

check_rules() {
    "$PROMTOOL" check rules deploy/prometheus/syncd-alerts.rules.yaml
    helper extract-rules "$WORK/base.yaml" "$WORK/prometheusrule.rules.yaml"
    "$PROMTOOL" check rules "$WORK/prometheusrule.rules.yaml"
}

# Grafana's queries, as recording rules: promtool parses each one.
check_dashboard_queries() {
    helper dashboard-rules deploy/grafana/syncd-dashboard.json "$WORK/dashboard.rules.yaml"
    "$PROMTOOL" check rules "$WORK/dashboard.rules.yaml"
}

test_rules() {
    "$PROMTOOL" test rules deploy/prometheus/syncd-alerts.test.yaml
}

# SIGTERM one of our background processes, and wait for it to be gone.
stop_pid() {
    if [ -n "$1" ]; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}

# A real syncd against the bundled SendGrid emulator, with one destination fed by a
# CSV file, so that per-destination series exist; its /metrics goes to promtool.
check_metrics() {
    if ! "$BIN/syncd" run --help >/dev/null 2>&1; then
        echo "cannot scrape a real syncd: 'syncd run' is not available in this build" \
            "(\`$BIN/syncd run --help\` fails). The daemon must exist for this check." >&2
        return 1
    fi
    local dir=$WORK/scrape key=SG.deploy-check.not-a-real-key token=deploy-check-token
    local list=9c0d6a2e-3b1f-4c5d-8e7f-a1b2c3d4e5f6
    mkdir -p "$dir/destinations.d"
    printf '%s' "$key" >"$dir/api-key"
    printf 'email,first_name\nada@example.com,Ada\ngrace@example.com,Grace\n' >"$dir/people.csv"
    cat >"$dir/destinations.d/deploy-check.yaml" <<EOF
apiVersion: syncd/v1
kind: SendGridDestination
metadata:
  name: deploy-check
spec:
  sendgrid:
    apiKey: {file: $dir/api-key}
    listId: $list
  consent:
    dataPrivacyAcknowledged: true
  segments:
    - name: people
      source: {csv: {path: $dir/people.csv}}
  mapping:
    email: email
    first_name: first_name
  schedule: {interval: 1h}
EOF
    SYNCD_SECRET_DIRS=$dir "$BIN/syncd" validate "$dir/destinations.d"

    local sendgrid_port admin_port metrics_port
    sendgrid_port=$(helper free-port)
    admin_port=$(helper free-port)
    metrics_port=$(helper free-port)
    local sendgrid=http://127.0.0.1:$sendgrid_port admin=http://127.0.0.1:$admin_port
    local metrics=http://127.0.0.1:$metrics_port

    # Both processes are ours: stop them by pid whatever happens next. Globals, not
    # locals: the trap runs when this step's subshell exits, after the function returned.
    emulator_pid="" syncd_pid=""
    trap 'stop_pid "$syncd_pid"; stop_pid "$emulator_pid"' EXIT

    # The emulator's account: the destination's list, and only the destination's key.
    cat >"$dir/emulator-seed.yaml" <<EOF
lists: [{id: $list, name: deploy-check}]
api_keys:
  $key: [marketing.read, marketing_campaigns.create, marketing_campaigns.read,
    marketing_campaigns.update, marketing_campaigns.delete]
EOF
    "$BIN/syncd" emulator --host 127.0.0.1 --port "$sendgrid_port" --quiet \
        --seed "$dir/emulator-seed.yaml" >"$dir/emulator.log" 2>&1 &
    emulator_pid=$!
    helper wait-http "$sendgrid/_emulator/state" --timeout 10 --pid "$emulator_pid" ||
        { tail -n 20 "$dir/emulator.log"; return 1; }

    # As in the pod: metrics on their own listener; the key file's directory allowed.
    SYNCD_LISTEN=127.0.0.1:$admin_port \
        SYNCD_METRICS_LISTEN=127.0.0.1:$metrics_port \
        SYNCD_SECRET_DIRS=$dir \
        SYNCD_DESTINATIONS=$dir/destinations.d \
        SYNCD_STATE=$dir/state.db \
        SYNCD_SENDGRID_BASE_URL=$sendgrid \
        SYNCD_ADMIN_TOKEN=$token \
        SYNCD_LOG_FORMAT=json \
        SQLITE_TMPDIR=$dir \
        "$BIN/syncd" run >"$dir/syncd.log" 2>&1 &
    syncd_pid=$!
    echo "syncd run (pid $syncd_pid) on $admin (metrics: $metrics), SendGrid emulator on $sendgrid"
    helper wait-http "$metrics/readyz" --timeout 20 --pid "$syncd_pid" ||
        { tail -n 30 "$dir/syncd.log"; return 1; }
    helper wait-http "$metrics/healthz" --timeout 5 --pid "$syncd_pid"
    # A new destination runs at once; the trigger only makes sure (any answer will do).
    echo "POST /v1/destinations/deploy-check/sync: $(helper post "$admin/v1/destinations/deploy-check/sync" --token "$token")"
    helper wait-http "$metrics/metrics" --timeout 20 --pid "$syncd_pid" --out "$dir/metrics.txt" \
        --contains 'syncd_last_success_timestamp_seconds{destination="deploy-check"}' ||
        { tail -n 30 "$dir/syncd.log"; return 1; }
    echo "scraped $(grep -c -v '^#' "$dir/metrics.txt") samples"
    "$PROMTOOL" check metrics <"$dir/metrics.txt"
    echo "promtool check metrics: no findings"

    # In the pod, SIGTERM must end in exit 0 well inside terminationGracePeriodSeconds.
    kill -TERM "$syncd_pid"
    local waited=0
    while kill -0 "$syncd_pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    local rc=0
    if kill -0 "$syncd_pid" 2>/dev/null; then
        echo "syncd still running 10 s after SIGTERM" >&2
        return 1
    fi
    wait "$syncd_pid" || rc=$?
    syncd_pid=""
    if [ "$rc" != 0 ]; then
        echo "syncd exited $rc after SIGTERM, expected 0" >&2
        tail -n 20 "$dir/syncd.log"
        return 1
    fi
    echo "syncd exited 0 on SIGTERM"
}

# --- run them all ------------------------------------------------------------------

failed=()
run_step() {
    local name=$1
    shift
    echo
    echo "==> $name"
    (set -e; "$@")
    local rc=$?
    if [ "$rc" != 0 ]; then
        echo "FAILED: $name"
        failed+=("$name")
    fi
}

promtool_missing() {
    echo "promtool is not available (see above)" >&2
    return 1
}

started=$SECONDS
run_step "kustomize: render deploy/base and the example and postgresql overlays" render
run_step "kubernetes-validate --strict: every rendered object" validate_manifests
run_step "syncd validate: the example overlay's destination files" validate_example_destinations
run_step "hadolint: Dockerfile" lint_dockerfile
run_step "PrometheusRule embeds the plain rules file" prometheusrule_in_sync

echo
echo "==> promtool"
if ensure_promtool; then
    echo "$("$PROMTOOL" --version 2>&1 | head -n 1) ($PROMTOOL)"
    run_step "promtool check rules: rules file and PrometheusRule" check_rules
    run_step "promtool test rules: alert unit tests" test_rules
    run_step "promtool check rules: the Grafana dashboard's queries parse" check_dashboard_queries
    run_step "promtool check metrics: a real scrape of syncd run" check_metrics
else
    for name in "promtool check rules" "promtool test rules" "promtool check rules: dashboard" \
        "promtool check metrics"; do
        run_step "$name" promtool_missing
    done
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "deploy/check.sh: ${#failed[@]} step(s) failed in $((SECONDS - started)) s:"
    printf '  - %s\n' "${failed[@]}"
    exit 1
fi
echo "deploy/check.sh: every deployment check passed in $((SECONDS - started)) s"
