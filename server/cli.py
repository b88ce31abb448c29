"""The `phones` command: run the product, manage Asterisk, the demo and headless agents."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pbx.instance import AsteriskFailed
from pbx.runtime import AsteriskUnavailable, find_runtime
from server.config import Config, ConfigError, load_config


def _config(args: argparse.Namespace) -> Config:
    path = args.config
    if path is None and Path("phones.toml").exists():
        path = Path("phones.toml")
    return load_config(path)


def _asterisk_bootstrap(_: argparse.Namespace) -> int:
    runtime = find_runtime()
    where = runtime.chroot or runtime.binary
    print(f"Asterisk {runtime.version} ready ({where})")
    return 0


def _run(args: argparse.Namespace) -> int:
    from server.runner import serve

    carrier = args.carrier or os.environ.get("PHONES_DEMO_CARRIER") == "1"
    return asyncio.run(serve(_config(args), demo=args.demo, with_carrier=carrier))


def _stop(args: argparse.Namespace) -> int:
    from server.runner import stop_running

    return stop_running(_config(args).state_dir)


def _demo_info(args: argparse.Namespace) -> int:
    from server.demo_cli import demo_info

    info = demo_info(_config(args))
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key}: {json.dumps(value)}")
    return 0


def _demo_call(args: argparse.Namespace) -> int:
    from server.demo_cli import demo_call

    return asyncio.run(demo_call(_config(args), args.line, args.seconds, not args.no_agent))


def _agent(args: argparse.Namespace) -> int:
    from server.demo_cli import run_agent

    return asyncio.run(run_agent(_config(args), args.user))


def _provision(args: argparse.Namespace) -> int:
    from server.provisioning_cli import ProvisioningError, print_result, run

    try:
        print_result(asyncio.run(run(_config(args), args.action, args)))
    except ProvisioningError as exc:
        print(f"phones: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="phones", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (default: ./phones.toml if present)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run Asterisk and the engine in the foreground")
    run.add_argument("--demo", action="store_true", help="create and print the demo tenant")
    run.add_argument(
        "--carrier",
        action="store_true",
        help="also start a demo carrier Asterisk (or PHONES_DEMO_CARRIER=1)",
    )
    run.set_defaults(handler=_run)

    stop = commands.add_parser("stop", help="stop the running engine and its Asterisk")
    stop.set_defaults(handler=_stop)

    asterisk = commands.add_parser("asterisk", help="manage the Asterisk runtime")
    asterisk_commands = asterisk.add_subparsers(dest="asterisk_command", required=True)
    bootstrap = asterisk_commands.add_parser(
        "bootstrap", help="find Asterisk 20-22, or build the cached Debian sid chroot"
    )
    bootstrap.set_defaults(handler=_asterisk_bootstrap)

    demo = commands.add_parser("demo", help="the demo tenant")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    info = demo_commands.add_parser("info", help="print the running demo's URLs and accounts")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=_demo_info)
    call = demo_commands.add_parser(
        "call",
        help="place a real call from a simulated caller to a line, answered by a "
        "headless agent, and print the interaction's timeline",
    )
    call.add_argument("--line", default=None, help="the number to call (default: first line)")
    call.add_argument("--seconds", type=float, default=4.0, help="how long to talk")
    call.add_argument(
        "--no-agent",
        action="store_true",
        help="no headless agent: answer in the PhoneBar (or a softphone) yourself",
    )
    call.set_defaults(handler=_demo_call)

    agent = commands.add_parser(
        "agent",
        help="a headless agent phone (pjsua2) that logs in, "
        "goes ready and auto-answers until Ctrl-C",
    )
    agent.add_argument("--user", required=True, help="the demo agent's username")
    agent.set_defaults(handler=_agent)

    from server.provisioning_cli import add_commands

    add_commands(commands, _provision)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `phones` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every migration step at INFO; only problems matter at start-up.
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return int(args.handler(args))
    except (AsteriskUnavailable, AsteriskFailed, ConfigError) as exc:
        print(f"phones: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
