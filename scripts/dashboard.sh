#!/usr/bin/env bash
# Install what the dashboard needs (once) and serve it at http://localhost:8501.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh app
source scripts/env.sh
exec .venv/bin/streamlit run dashboard/app.py --server.port "${PORT:-8501}" "$@"
