#!/usr/bin/env bash
# Create or update the project's virtual environment in .venv, idempotently.
#   scripts/bootstrap.sh app   -> what the dashboard needs (requirements.txt)
#   scripts/bootstrap.sh dev   -> plus the test tools (requirements-dev.txt) and Chromium
# A stamp of the requirement files makes a second run a no-op.
set -euo pipefail

profile="${1:-app}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
  done
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "SparseLens needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating virtual environment in .venv"
  "$python" -m venv .venv
fi

case "$profile" in
  app) reqs=(requirements.txt) ;;
  dev) reqs=(requirements.txt requirements-dev.txt) ;;
  *) echo "usage: $0 [app|dev]" >&2; exit 2 ;;
esac
stamp_file=".venv/.sparselens-$profile"
stamp="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
  echo "Installing Python packages ($profile)"
  # torch first and pinned: its CPU wheel is local; other packages then reuse it.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$(grep -E '^torch==' requirements.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "${reqs[-1]}"
  echo "$stamp" > "$stamp_file"
fi

if [ "$profile" = dev ] && ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium for the browser test"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "Chromium is missing and apt-get needs root: install the Debian package 'chromium'." >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
