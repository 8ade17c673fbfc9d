"""``python -m core``: help, start-up, errors."""

from __future__ import annotations

import subprocess
import sys


def test_help_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "core", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "datasets" in out and "models" in out


def test_building_the_parser_imports_no_torch():
    # Commands import torch and pandas when they run, so --help starts fast.
    code = (
        "import sys; from core.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_bad_input_is_an_error_message_not_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "models", "--dataset"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
