#!/bin/sh
# Writes deploy/base/prometheusrule.yaml from syncd-alerts.rules.yaml, the one source
# of the alert rules: the rules file's `groups:` becomes the PrometheusRule's
# spec.groups, text and comments unchanged (only indented), so both stay identical.
#
#   deploy/prometheus/generate-prometheusrule.sh           rewrite the PrometheusRule
#   deploy/prometheus/generate-prometheusrule.sh --check   exit 1 if it is out of date
set -eu
cd "$(dirname "$0")/../.."
rules=deploy/prometheus/syncd-alerts.rules.yaml
target=deploy/base/prometheusrule.yaml

render() {
    cat <<'HEADER'
# GENERATED from deploy/prometheus/syncd-alerts.rules.yaml by
# deploy/prometheus/generate-prometheusrule.sh: edit the rules file, then run the script.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: syncd
spec:
HEADER
    # From `groups:` on (the file's header comment stays behind), non-empty lines
    # indented by two spaces.
    awk '/^groups:/ { found = 1 } found { print (length($0) ? "  " $0 : "") }' "$rules"
}

case ${1:-} in
    "")
        render >"$target"
        ;;
    --check)
        if ! render | diff -u "$target" - >&2; then
            echo "$target differs from $rules: run $0" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac
