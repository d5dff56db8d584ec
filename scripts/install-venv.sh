#!/bin/sh
# Creates (or updates) a virtual environment and installs syncd into it, pinned by
# constraints.txt. `make install` and the Dockerfile both run this one script, so
# an image installs exactly what the tests ran against.
#
#   scripts/install-venv.sh [--editable] VENV_DIR [EXTRAS]
#
#   --editable   install the working tree in development mode (pip -e); `make` uses it
#   EXTRAS       optional dependency groups of pyproject.toml, e.g. `dev`
#   PYTHON       the interpreter that creates the venv (default: python3)
set -eu

usage() {
    echo "usage: $0 [--editable] VENV_DIR [EXTRAS]" >&2
    exit 2
}

editable=""
while [ $# -gt 0 ]; do
    case $1 in
        --editable) editable="-e"; shift ;;
        -h | --help) usage ;;
        -*) usage ;;
        *) break ;;
    esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
venv=$1
extras=${2:-}

# pip resolves `.` and constraints.txt against the repository root, wherever we are called from;
# a relative VENV_DIR keeps meaning "relative to the caller".
case $venv in
    /*) ;;
    *) venv=$(pwd)/$venv ;;
esac
cd "$(dirname "$0")/.."

target="."
if [ -n "$extras" ]; then
    target=".[$extras]"
fi

"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# $editable is empty or `-e`: unquoted on purpose so that empty means "no argument".
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet -c constraints.txt $editable "$target"
if [ -n "$editable" ]; then
    # pip compiles what it installs, but an editable install leaves src/ as it is: with
    # PYTHONDONTWRITEBYTECODE set, every `syncd` process would compile it from source.
    "$venv/bin/python" -m compileall -q src
fi
