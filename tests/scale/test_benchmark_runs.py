"""`make bench` keeps working: every kind of scenario runs end to end at a tiny scale.

Not a speed test (the figures belong to docs/benchmarks.md, measured on a
quiet machine): this pins that the one command still starts its database,
Redis database, fake model, servers and generators, speaks the protocol
without errors, measures CPU from /proc and writes its JSON. Its own database
name (the bench starts its own redis-server), so a developer's `make bench`
is not disturbed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.servers import ROOT

# Seven scenarios, each starting its own database copy, Redis, fake model and
# servers: 60-100 s here, more on a loaded machine; the bench's own subprocess
# limit (600 s) is the real bound, not the suite's default 120 s.
# Marked heavy (make faults runs it, not make test): ~110 s of the 15 min budget.
pytestmark = [pytest.mark.server, pytest.mark.heavy, pytest.mark.timeout(300)]

SCENARIOS = [
    "ai-50x10",
    "ai-floor",
    "ai-50x10-spread",
    "relay",
    "relay-floor",
    "idle",
    "saturation",
]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BENCH_DB_NAME": f"{os.environ.get('TEST_DB_NAME', 'test_tatartours')}_bench",
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_every_kind_of_scenario_runs_without_errors_and_reports_its_figures():
    scenario_args = [arg for name in SCENARIOS for arg in ("--scenario", name)]
    result = bench("-m", "bench", "run", "--scale", "0.02", *scenario_args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = re.search(r"^results: (\S+\.json)$", result.stdout, re.MULTILINE)
    assert found, result.stdout[-2000:]
    report = json.loads((ROOT / found.group(1)).read_text())
    by_name = {s["scenario"]: s["metrics"] for s in report["scenarios"]}
    assert sorted(by_name) == sorted(SCENARIOS)
    for name in ("ai-50x10", "ai-floor", "ai-50x10-spread", "relay", "relay-floor"):
        metrics = by_name[name]
        assert metrics["errors"] == 0, (name, metrics)
        # CPU is counted in /proc's 10 ms ticks: a tiny run may read 0, never less.
        assert metrics["messages"] > 0 and metrics["cpu_server_s"] >= 0, (name, metrics)
    for name in ("ai-50x10", "ai-floor", "ai-50x10-spread"):
        assert by_name[name]["overhead_p50_ms"] is not None, name
        assert by_name[name]["ack_p50_ms"] is not None, name
    assert by_name["relay"]["round_trips_per_second"] > 0
    assert by_name["idle"]["sockets_still_open"] == by_name["idle"]["sockets"]
    assert by_name["idle"]["rss_kib_per_socket"] > 0
    assert by_name["saturation"]["max_rate_p99_under_100ms"] >= 0
    # Its own Redis, not the machine's shared one, and the floor on the chat's layer.
    assert not report["redis"].startswith("redis://127.0.0.1:6379/"), report["redis"]
    assert report["channel_layer"] == settings.CHANNEL_LAYERS["default"]["BACKEND"]


def test_the_streaming_floor_prints_both_clients():
    result = bench("-m", "bench.stream_floor", "--answers", "20", "--concurrency", "5")
    assert result.returncode == 0, result.stderr[-3000:]
    for client in ("httpx", "ai.client.complete"):
        line = next(line for line in result.stdout.splitlines() if line.startswith(client))
        assert float(line.split()[1]) > 0, line
