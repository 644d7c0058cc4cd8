"""`python -m bench.compare BEFORE AFTER`: one scenario, two checkouts, run alternately.

On a machine shared with other work a single before/after pair says little:
the figures move with the other processes' load. This runs `python -m bench
run --scenario S` in checkout BEFORE, then in AFTER, for several rounds (each
checkout's own code and venv: BEFORE/.venv/bin/python), and prints one line
per run with `cpu_other_processes_s` beside the figures, so runs made under
equal load can be read against each other.

    git worktree add --detach ../before <commit> && ln -s "$PWD/.venv" ../before/.venv
    .venv/bin/python -m bench.compare ../before . --scenario ai-50x10 --rounds 3

The environment (BENCH_DB_NAME, ...) is passed through unchanged.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FIGURES = (
    "throughput_per_s",
    "errors",
    "ack_p50_ms",
    "ack_p99_ms",
    "overhead_p50_ms",
    "overhead_p99_ms",
    "cpu_ms_per_message",
    "cpu_server_ms_per_message",
    "cpu_postgres_ms_per_message",
    "cpu_redis_ms_per_message",
    "db_transactions_per_message",
    "db_rows_read_per_message",
    "cpu_fake_model_s",
    "cpu_generator_s",
    "cpu_other_processes_s",
)


def run(checkout: Path, scenario: str, extra: list[str]) -> dict[str, Any]:
    python = checkout / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python), "-m", "bench", "run", "--scenario", scenario, *extra],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"^results: (\S+\.json)$", out.stdout, re.MULTILINE)
    if found is None:
        sys.exit(f"no results from {checkout}:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    data: dict[str, Any] = json.loads((checkout / found.group(1)).read_text())
    return data


def figures(data: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The scenario's figures, wherever the JSON keeps them."""
    for key in ("scenarios", "results"):
        block = data.get(key)
        if isinstance(block, dict) and scenario in block:
            block = block[scenario]
            return dict(block.get("metrics", block))
        if isinstance(block, list):
            for item in block:
                if item.get("name") == scenario or item.get("scenario") == scenario:
                    return dict(item.get("metrics", item))
    raise SystemExit(f"scenario {scenario} not in the results: {sorted(data)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--scenario", default="ai-50x10")
    parser.add_argument("--rounds", type=int, default=3)
    # Anything else (--profile, --scale 0.5, ...) is passed to `bench run`.
    args, bench_args = parser.parse_known_args()
    print("run  code    " + "  ".join(FIGURES), flush=True)
    for number in range(1, args.rounds + 1):
        for name, checkout in (("before", args.before), ("after", args.after)):
            found = figures(run(checkout.resolve(), args.scenario, bench_args), args.scenario)
            values = "  ".join(str(found.get(key, "-")) for key in FIGURES)
            print(f"{number:<4} {name:<7} {values}", flush=True)


if __name__ == "__main__":
    main()
