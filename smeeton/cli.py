"""The `smeeton` command line."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smeeton")
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    print("not ready yet", file=sys.stderr)
    return 1
