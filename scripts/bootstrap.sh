#!/usr/bin/env bash
# Set up .venv on a fresh Debian machine: check Python, install missing apt packages when root,
# then install the project (editable) with its test extras. Says clearly what is missing otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
APT_LIST="deploy/apt-packages.txt"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; Dunline needs Python >= 3.11 (Debian: apt-get install python3)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$PYTHON" --version) is too old; Dunline needs Python >= 3.11" >&2
  exit 1
fi

wanted=$( { grep -vE '^\s*(#|$)' "$APT_LIST" || true; } | awk '{print $1}' | tr '\n' ' ')
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  wanted="$wanted python3-venv"
fi
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for package in $wanted; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing apt packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  else
    echo "warning: missing apt packages:$missing" >&2
    echo "         run as root, or: sudo apt-get install$missing (tests needing them will fail or skip)" >&2
  fi
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "warning: /usr/bin/chromium missing: the browser tests (tests/browser) drive Debian's chromium through" >&2
  echo "         Playwright, which never downloads a browser of its own: sudo apt-get install chromium" >&2
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,bench]" --config-settings editable_mode=compat
touch .venv/.installed
echo "ready: .venv ($(.venv/bin/python --version))"
