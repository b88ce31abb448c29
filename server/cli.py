"""The `phones` command: run the product, manage Asterisk, the demo and headless agents."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pbx.runtime import AsteriskUnavailable, find_runtime


def _asterisk_bootstrap(_: argparse.Namespace) -> int:
    runtime = find_runtime()
    where = runtime.chroot or runtime.binary
    print(f"Asterisk {runtime.version} ready ({where})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="phones", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    asterisk = commands.add_parser("asterisk", help="manage the Asterisk runtime")
    asterisk_commands = asterisk.add_subparsers(dest="asterisk_command", required=True)
    bootstrap = asterisk_commands.add_parser(
        "bootstrap", help="find Asterisk 20-22, or build the cached Debian sid chroot"
    )
    bootstrap.set_defaults(handler=_asterisk_bootstrap)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `phones` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except AsteriskUnavailable as exc:
        print(f"phones: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
