"""`python -m bench run [--scenario NAME ...]`: the benchmark from one command.

Creates its own database (fresh for each scenario) and starts its own Redis,
the fake model, the servers and the load generators for each scenario, stops everything, prints
a table and writes bench/results/<timestamp>.json. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import sys
import time
from typing import Any

from bench import stack
from bench.report import table
from bench.scenarios import SCENARIOS, Options, machine, run_scenario, to_json

DEFAULT_SCENARIOS = [
    "ai-50x10",
    "ai-floor",
    "ai-200x5",
    "relay",
    "relay-floor",
    "idle",
    "saturation",
]


def raise_open_files_limit() -> int:
    """5,000 sockets on each side need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios and report")
    run.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="repeatable; default: all of them",
    )
    run.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    run.add_argument("--processes", type=int, help="server processes (default: per scenario)")
    run.add_argument("--generators", type=int, default=1, help="load generator processes")
    run.add_argument(
        "--scale", type=float, default=1.0, help="shrink the load, e.g. 0.1 for a smoke run"
    )
    run.add_argument("--profile", action="store_true", help="sample the servers with py-spy")
    run.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra server setting (for experiments; the report records it)",
    )
    run.add_argument(
        "--idle-connect-only",
        action="store_true",
        help="idle scenario: sockets that never register (the transport's own memory)",
    )
    run.add_argument(
        "--server-args",
        default="",
        help='extra server command-line arguments, e.g. "--ping-interval 30"',
    )
    sub.add_parser("list", help="list the scenarios")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "list":
        for scenario in SCENARIOS.values():
            print(f"{scenario.name:<12} {scenario.description}")
        return 0

    names = args.scenario or DEFAULT_SCENARIOS
    extra_env = dict(item.split("=", 1) for item in args.env)
    options = Options(
        server=args.server,
        processes=args.processes,
        generators=args.generators,
        scale=args.scale,
        extra_env=extra_env,
        profile=args.profile,
        idle_connect_only=args.idle_connect_only,
        server_args=shlex.split(args.server_args),
        log=lambda line: print(line, flush=True),
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict[str, Any] = {
        "started": stamp,
        "machine": machine(),
        "open_files_limit": raise_open_files_limit(),
        "options": {
            "server": args.server,
            "processes": args.processes,
            "generators": args.generators,
            "scale": args.scale,
            "env": extra_env,
            "server_args": args.server_args,
        },
        "scenarios": [],
    }
    stack.RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"benchmark {stamp}: {', '.join(names)}", flush=True)
    with stack.bench_database(), stack.bench_redis() as redis_url:
        # The floor runs the same server and loads the same layer as the chat:
        # both come from these settings and options (docs/benchmarks.md).
        report["channel_layer"] = stack.channel_layer_backend(stack.server_env(**extra_env))
        report["redis"] = redis_url
        print(f"channel layer {report['channel_layer']}, redis {redis_url}", flush=True)
        for name in names:
            print(f"-- {name}", flush=True)
            # Every scenario starts from the migrated schema and an empty Redis.
            stack.fresh_database()
            stack.flush_redis()
            with stack.running(stack.RESULTS / f"logs-{stamp}") as processes:
                result = run_scenario(processes, SCENARIOS[name], options)
            report["scenarios"].append(result)
            print(table(result), flush=True)
    path = stack.RESULTS / f"{stamp}.json"
    path.write_text(to_json(report))
    print(f"results: {path.relative_to(stack.ROOT)}")
    missed = [
        f"{r['scenario']}:{t['metric']}" for r in report["scenarios"] for t in r["targets"]
        if t["met"] is False
    ]  # fmt: skip
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
