#!/usr/bin/env bash
# Install what the tests need (once) and run the whole suite: lint, format, pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh dev
source scripts/env.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# A run that collects no test exits 5, which fails CI as it should.
exec .venv/bin/python -m pytest "$@"
