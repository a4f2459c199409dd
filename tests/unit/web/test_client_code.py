"""The browser client's modules parse, keep their JSDoc types, and stay narrow."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLIENT = ROOT / "smeeton" / "web" / "static" / "js"
MODULES = sorted(CLIENT.rglob("*.js"))
TSC = ROOT / "tests" / "js" / "node_modules" / ".bin" / "tsc"


def test_every_module_parses_as_javascript():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; scripts/test needs Node.js")
    for module in MODULES:
        done = subprocess.run(
            [node, "--check", str(module)], capture_output=True, text=True
        )
        assert done.returncode == 0, f"{module}: {done.stderr}"


def test_jsdoc_types_check_with_typescript():
    if not TSC.exists():
        pytest.fail("TypeScript is missing: run `npm ci` in tests/js")
    done = subprocess.run(
        [
            str(TSC),
            "--noEmit",
            "--allowJs",
            "--checkJs",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            "--lib",
            "es2022,dom,dom.iterable",
            *map(str, MODULES),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lines_are_at_most_80_columns():
    long = [
        f"{module.relative_to(ROOT)}:{number}"
        for module in MODULES
        for number, line in enumerate(module.read_text().splitlines(), 1)
        if len(line) > 80
    ]
    assert not long, long
