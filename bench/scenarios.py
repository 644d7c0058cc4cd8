"""The benchmark's scenarios and their targets (issue 8), and how each one is run.

Every scenario starts its own server processes and fake model, warms them up
with a short conversation (imports, pools, caches), measures, and stops them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procstat
from bench.loadgen import QUESTION
from bench.profile import Sampler
from bench.profile import summarize as summarize_profile
from bench.stack import (
    Generator,
    Process,
    Stack,
    postgres_backend_pids,
    postgres_counters,
    postgres_shared_pids,
    redis_pids,
    server_env,
)
from bench.stats import summarize


@dataclass(frozen=True)
class Target:
    metric: str  # a key of the scenario's flat metrics
    limit: float
    at_most: bool = True  # False: the metric must be at least `limit`

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.limit if self.at_most else value >= self.limit

    @property
    def text(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.limit:g}"


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # ai, relay, idle, saturation
    description: str
    params: dict[str, Any]
    targets: tuple[Target, ...] = ()
    processes: int = 1
    first_token_ms: float = 200.0
    tokens_per_second: float = 50.0
    app: str = "tatartours.asgi:application"  # the ASGI application the servers run


CPU_TARGET = Target("cpu_ms_per_message", 3.0)
# The AI scenarios of 50 visitors, the chat's and its floor's alike.
AI_TARGETS = (
    Target("overhead_p50_ms", 8),
    Target("overhead_p99_ms", 30),
    Target("ack_p99_ms", 20),
    Target("errors", 0),
    CPU_TARGET,
)
RELAY_TARGETS = (
    Target("round_trip_p99_ms", 30),
    Target("round_trips_per_second", 1500, at_most=False),
    Target("errors", 0),
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "ai-50x10",
            "ai",
            "AI chat: 50 visitors x 10 messages, first token after 200 ms, 50 tokens/s",
            {"visitors": 50, "messages": 10},
            AI_TARGETS,
        ),
        Scenario(
            "ai-floor",
            "ai",
            "AI floor: ai-50x10's visitors through daphne, Channels, the layer and httpx-aiohttp "
            "only (bench/ai_floor.py: no database, prompt or checks); what the stack allows",
            {"visitors": 50, "messages": 10},
            AI_TARGETS,
            app="bench.ai_floor:application",
        ),
        Scenario(
            "ai-50x10-spread",
            "ai",
            "AI chat: ai-50x10 with the visitors' first recorded questions spread over one "
            "answer's time instead of sent in lockstep (what a steady stream of visitors sees)",
            {"visitors": 50, "messages": 10, "spread": True},
            AI_TARGETS,
        ),
        Scenario(
            "ai-floor-spread",
            "ai",
            "AI floor with ai-50x10-spread's visitors (bench/ai_floor.py)",
            {"visitors": 50, "messages": 10, "spread": True},
            AI_TARGETS,
            app="bench.ai_floor:application",
        ),
        Scenario(
            "ai-200x5",
            "ai",
            "AI chat: 200 visitors x 5 messages, first token after 200 ms, 50 tokens/s",
            {"visitors": 200, "messages": 5},
            (Target("overhead_p99_ms", 60), Target("errors", 0), CPU_TARGET),
        ),
        Scenario(
            "relay",
            "relay",
            "Relay: 50 visitor-operator pairs, visitor on process 1, operator on process 2",
            {"pairs": 50, "rounds": 40},
            RELAY_TARGETS,
            processes=2,
        ),
        Scenario(
            "relay-floor",
            "relay-floor",
            "Relay floor: the same pairs through daphne, Channels and the Redis layer only "
            "(bench/floor.py: no database, no checks); what the stack itself allows",
            {"pairs": 50, "rounds": 40},
            RELAY_TARGETS,
            processes=2,
            app="bench.floor:application",
        ),
        Scenario(
            "idle",
            "idle",
            "Idle: 5,000 registered visitor sockets on one process, 30 s of silence",
            {"sockets": 5000, "duration": 30},
            (
                Target("rss_kib_per_socket", 40),
                Target("idle_cpu_percent_of_core", 5),
                Target("errors", 0),
            ),
        ),
        Scenario(
            "saturation",
            "saturation",
            "Saturation: the model answers at once; highest message rate with p99 < 100 ms",
            {
                "visitors": 200,
                "step_seconds": 10,
                "rates": [10, 20, 30, 40, 50, 60, 80, 100, 150, 200],
            },
            (Target("max_rate_p99_under_100ms", 1, at_most=False),),
            first_token_ms=0.0,
            tokens_per_second=0.0,  # no pacing: the whole answer at once
        ),
    )
}


@dataclass
class Options:
    server: str = "daphne"
    processes: int | None = None  # overrides the scenario's
    generators: int = 1
    scale: float = 1.0  # shrink visitors/messages for a quick smoke run
    profile: bool = False  # sample the servers with py-spy while measuring
    idle_connect_only: bool = False  # idle sockets that never send `register`
    log: Callable[[str], None] = print
    extra_env: dict[str, str] = field(default_factory=dict)
    server_args: list[str] = field(default_factory=list)  # appended to the server's command


def scaled(value: int, scale: float) -> int:
    return max(1, round(value * scale))


def calibrate_model(base_url: str) -> float:
    """The fake model's own time for one answer, in ms: the fastest of three direct calls."""
    body = {
        "model": "bench/model",
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    best = float("inf")
    with httpx.Client(timeout=30) as client:
        for _ in range(3):
            started = time.perf_counter()
            with client.stream(
                "POST",
                f"{base_url}/chat/completions",
                json=body,
                headers={"Authorization": "Bearer bench"},
            ) as response:
                for _line in response.iter_lines():
                    pass
            best = min(best, (time.perf_counter() - started) * 1000)
    return round(best, 2)


class Run:
    """One scenario on its own freshly started processes."""

    def __init__(self, stack: Stack, scenario: Scenario, options: Options) -> None:
        self.stack = stack
        self.scenario = scenario
        self.options = options
        self.servers: list[Process] = []
        self.fake: Process | None = None
        self.model_ms = 0.0
        self.profiles: list[Path] = []
        self.measuring = False

    def sampler(self) -> Sampler | None:
        if not (self.options.profile and self.measuring):
            return None
        label = f"{self.scenario.name}-{self.options.server}-{len(self.profiles)}"
        return Sampler([s.pid for s in self.servers], self.stack.log_dir, label)

    def start(self) -> None:
        sc = self.scenario
        self.fake, base_url = self.stack.start_fake_model(sc.first_token_ms, sc.tokens_per_second)
        self.model_ms = calibrate_model(base_url)
        env = server_env(
            OPENROUTER_API_KEY="bench-key", OPENROUTER_BASE_URL=base_url, **self.options.extra_env
        )
        count = self.options.processes or sc.processes
        self.servers = [
            self.stack.start_server(self.options.server, env, self.options.server_args, sc.app)
            for _ in range(count)
        ]
        self.options.log(
            f"  {count} x {self.options.server} on ports "
            f"{', '.join(str(s.port) for s in self.servers)}; model alone: {self.model_ms} ms"
        )
        # Warm-up: imports, the DB pool, the Redis connections, the fake's client.
        if sc.kind == "relay-floor":
            warm = self.floor_spec(pairs=2 * count, rounds=2)
        else:
            warm = {"scenario": "ai", "urls": self.urls, "visitors": 2 * count, "messages": 2}
        self.drive([warm])
        self.measuring = True

    def floor_spec(self, pairs: int, rounds: int) -> dict[str, Any]:
        return {
            "scenario": "relay-floor",
            "visitor_url": self.urls[0],
            "operator_url": self.urls[-1],
            "pairs": pairs,
            "rounds": rounds,
        }

    @property
    def urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{s.port}" for s in self.servers]

    def groups(self, generators: list[Generator]) -> dict[str, list[int]]:
        return {
            "server": [s.pid for s in self.servers],
            "postgres": postgres_backend_pids(),
            "postgres_shared": postgres_shared_pids(),
            "redis": redis_pids(),
            "fake_model": [self.fake.pid] if self.fake else [],
            "generator": [g.pid for g in generators],
        }

    def drive(
        self, specs: list[dict[str, Any]], hold: Callable[[], dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Run generators with `specs` together; measure CPU between "go" and their results.

        `hold` runs after the results, while every socket is still open.
        """
        generators = [Generator.start(spec) for spec in specs]
        try:
            for generator in generators:
                ready = generator.read()
                if not ready.get("ready"):
                    raise RuntimeError(f"generator not ready: {ready}")
            sampler = self.sampler()
            db_before = postgres_counters()
            meter = procstat.CpuMeter(self.groups(generators))
            meter.start()
            started = time.perf_counter()
            for generator in generators:
                generator.go()
            results = [generator.read()["result"] for generator in generators]
            wall = time.perf_counter() - started
            cpu = meter.stop(self.groups(generators))
            time.sleep(1.2)  # backends report their counters within a second
            db_after = postgres_counters()
            if sampler is not None:
                self.profiles.extend(sampler.stop())
            held = hold() if hold else {}
        finally:
            for generator in generators:
                generator.close()
        db = {name: db_after[name] - db_before.get(name, 0) for name in db_after}
        return merge(results, wall, cpu, {"postgres_counters": db, **held})

    def split(self, spec: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """The spec divided between the generator processes."""
        count = max(1, min(self.options.generators, spec[key]))
        parts = []
        for index in range(count):
            share = spec[key] // count + (1 if index < spec[key] % count else 0)
            parts.append({**spec, key: share})
        return parts

    def server_rss(self) -> int:
        return sum(procstat.rss_bytes(s.pid) or 0 for s in self.servers)


def merge(
    results: list[dict[str, Any]], wall: float, cpu: dict[str, float], held: dict[str, Any]
) -> dict[str, Any]:
    samples: dict[str, list[float]] = {}
    for result in results:
        for name, values in result["samples"].items():
            samples.setdefault(name, []).extend(values)
    return {
        "messages": sum(r["messages"] for r in results),
        "errors": [e for r in results for e in r["errors"]],
        "wall_seconds": round(wall, 3),
        "samples": samples,
        "cpu_seconds": cpu,
        "generators": [r["generator"] for r in results],
        **held,
    }


def cpu_metrics(raw: dict[str, Any], messages: int | None = None) -> dict[str, Any]:
    """CPU and database work per message; `messages` when a generator's unit is
    not one message (a relay round trip carries two)."""
    cpu = raw["cpu_seconds"]
    messages = raw["messages"] if messages is None else messages
    ours = cpu["server"] + cpu["postgres"] + cpu["redis"]
    measured = sum(v for k, v in cpu.items() if k != "machine")
    metrics: dict[str, Any] = {
        "cpu_server_s": cpu["server"],
        "cpu_postgres_s": cpu["postgres"],
        "cpu_redis_s": cpu["redis"],
        # The cluster's shared processes also work for every other database: not ours alone.
        "cpu_postgres_shared_s": cpu["postgres_shared"],
        "cpu_fake_model_s": cpu["fake_model"],
        "cpu_generator_s": cpu["generator"],
        # CPU of every other process on the machine during the run: noise to know about.
        "cpu_other_processes_s": round(max(0.0, cpu["machine"] - measured), 3),
        "cpu_ms_per_message": round(ours / messages * 1000, 3) if messages else None,
        "cpu_server_ms_per_message": round(cpu["server"] / messages * 1000, 3)
        if messages
        else None,
        "cpu_postgres_ms_per_message": round(cpu["postgres"] / messages * 1000, 3)
        if messages
        else None,
        "cpu_redis_ms_per_message": round(cpu["redis"] / messages * 1000, 3) if messages else None,
    }
    db = raw.get("postgres_counters", {})
    if messages and db:
        metrics["db_transactions_per_message"] = round(
            (db["xact_commit"] + db["xact_rollback"]) / messages, 2
        )
        metrics["db_rows_read_per_message"] = round(
            (db["tup_returned"] + db["tup_fetched"]) / messages, 1
        )
    generators = raw["generators"]
    metrics["generator_cpu_share_max"] = max(g["cpu_share_of_core"] or 0 for g in generators)
    metrics["generator_lateness_p99_ms"] = max(g["lateness_ms"]["p99"] or 0 for g in generators)
    metrics["generator_lateness_max_ms"] = max(g["lateness_ms"]["max"] or 0 for g in generators)
    return metrics


def flatten(prefix: str, samples: list[float]) -> dict[str, Any]:
    summary = summarize(samples)
    return {f"{prefix}_{k}_ms": v for k, v in summary.items() if k != "count"}


def run_ai(run: Run) -> dict[str, Any]:
    sc, opts = run.scenario, run.options
    spec = {
        "scenario": "ai",
        "urls": run.urls,
        "visitors": scaled(sc.params["visitors"], opts.scale),
        "messages": scaled(sc.params["messages"], opts.scale),
        # Spread: the visitors' first recorded questions spread evenly over
        # one answer of the model, instead of all in the same millisecond.
        "spread_seconds": run.model_ms / 1000 if sc.params.get("spread") else 0.0,
    }
    raw = run.drive(run.split(spec, "visitors"))
    samples = raw["samples"]
    overhead = [v - run.model_ms for v in samples.get("response", [])]
    metrics = {
        "visitors": spec["visitors"],
        "messages_each": spec["messages"],
        "messages": raw["messages"],
        "errors": len(raw["errors"]),
        "throughput_per_s": round(raw["messages"] / raw["wall_seconds"], 1),
        "model_alone_ms": run.model_ms,
        **flatten("ack", samples.get("ack", [])),
        **flatten("first_chunk", samples.get("first_chunk", [])),
        **flatten("response", samples.get("response", [])),
        **flatten("overhead", overhead),
        **cpu_metrics(raw),
    }
    return {"metrics": metrics, "error_samples": raw["errors"][:20]}


def run_relay(run: Run) -> dict[str, Any]:
    from bench.seed import operator_cookies

    sc, opts = run.scenario, run.options
    if len(run.servers) < 2:
        raise RuntimeError("the relay scenarios need two server processes")
    pairs = scaled(sc.params["pairs"], opts.scale)
    spec = run.floor_spec(pairs, scaled(sc.params["rounds"], opts.scale))
    if sc.kind == "relay":
        spec.update(scenario="relay", operator_cookies=operator_cookies(pairs))
    raw = run.drive(run.split(spec, "pairs"))
    samples = raw["samples"]
    metrics = {
        "pairs": pairs,
        "rounds_each": spec["rounds"],
        "messages": raw["messages"] * 2,
        "round_trips": raw["messages"],
        "errors": len(raw["errors"]),
        "round_trips_per_second": round(raw["messages"] / raw["wall_seconds"], 1),
        **flatten("round_trip", samples.get("round_trip", [])),
        **cpu_metrics(raw, messages=raw["messages"] * 2),
    }
    return {"metrics": metrics, "error_samples": raw["errors"][:20]}


def run_idle(run: Run) -> dict[str, Any]:
    sc, opts = run.scenario, run.options
    sockets = scaled(sc.params["sockets"], opts.scale)
    duration = sc.params["duration"] * min(1.0, max(opts.scale, 0.2))
    server = run.servers[0]
    time.sleep(1)
    rss_before = procstat.rss_bytes(server.pid) or 0

    def hold() -> dict[str, Any]:
        return {"rss_after": procstat.rss_bytes(server.pid) or 0}

    spec = {
        "scenario": "idle",
        "urls": run.urls[:1],
        "sockets": sockets,
        "duration": duration,
        # Connect-only sockets tell the transport's share of the memory from the chat's.
        "register": not opts.idle_connect_only,
    }
    raw = run.drive([spec], hold=hold)
    opened = int(raw["samples"].get("opened", [0])[0])
    rss_delta = raw["rss_after"] - rss_before
    cpu = raw["cpu_seconds"]
    metrics = {
        "sockets": sockets,
        "sockets_open": opened,
        "sockets_still_open": raw["messages"],
        "errors": len(raw["errors"]),
        "idle_seconds": raw["wall_seconds"],
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_after_mib": round(raw["rss_after"] / 2**20, 1),
        "rss_kib_per_socket": round(rss_delta / max(opened, 1) / 1024, 2),
        "idle_cpu_percent_of_core": round(cpu["server"] / raw["wall_seconds"] * 100, 2),
        "idle_cpu_redis_percent": round(cpu["redis"] / raw["wall_seconds"] * 100, 2),
        "idle_cpu_postgres_percent": round(cpu["postgres"] / raw["wall_seconds"] * 100, 2),
        "cpu_generator_s": cpu["generator"],
    }
    return {"metrics": metrics, "error_samples": raw["errors"][:20]}


def run_saturation(run: Run) -> dict[str, Any]:
    sc, opts = run.scenario, run.options
    visitors = scaled(sc.params["visitors"], opts.scale)
    steps = []
    best = 0.0
    for rate in sc.params["rates"]:
        spec = {
            "scenario": "saturation",
            "urls": run.urls,
            "visitors": visitors,
            "rate": rate * max(opts.scale, 0.1),
            "duration": sc.params["step_seconds"] * min(1.0, max(opts.scale, 0.3)),
        }
        parts = run.split(spec, "visitors")
        for part in parts:
            part["rate"] = spec["rate"] * part["visitors"] / visitors
        raw = run.drive(parts)
        samples = raw["samples"]
        response = summarize(samples.get("response", []))
        step = {
            "offered_rate": spec["rate"],
            "achieved_rate": round(raw["messages"] / raw["wall_seconds"], 1),
            "messages": raw["messages"],
            "errors": len(raw["errors"]),
            **flatten("ack", samples.get("ack", [])),
            **{f"response_{k}_ms": v for k, v in response.items() if k != "count"},
            **cpu_metrics(raw),
        }
        steps.append(step)
        run.options.log(
            f"    rate {spec['rate']:g}/s: achieved {step['achieved_rate']}/s, "
            f"p99 {step['response_p99_ms']} ms, errors {step['errors']}, "
            f"generator {step['generator_cpu_share_max']:.0%} of a core"
        )
        passed = (
            step["errors"] == 0
            and response["p99"] is not None
            and response["p99"] < 100
            and step["achieved_rate"] >= 0.9 * spec["rate"]
        )
        if not passed:
            break
        best = step["achieved_rate"]
    metrics = {"max_rate_p99_under_100ms": best, "visitors": visitors}
    if steps:
        last_good = [s for s in steps if s["achieved_rate"] <= best] or steps[:1]
        metrics.update({k: v for k, v in last_good[-1].items() if k.startswith("cpu_")})
    return {"metrics": metrics, "steps": steps}


RUNNERS: dict[str, Callable[[Run], dict[str, Any]]] = {
    "ai": run_ai,
    "relay": run_relay,
    "relay-floor": run_relay,
    "idle": run_idle,
    "saturation": run_saturation,
}


def run_scenario(stack: Stack, scenario: Scenario, options: Options) -> dict[str, Any]:
    run = Run(stack, scenario, options)
    try:
        run.start()
        outcome = RUNNERS[scenario.kind](run)
        if run.profiles:
            summary_path = stack.log_dir / f"profile-{scenario.name}-{options.server}.txt"
            summary_path.write_text(summarize_profile(run.profiles))
            outcome["profile"] = str(summary_path.relative_to(summary_path.parents[2]))
            options.log(f"  profile: {summary_path}")
    finally:
        for process in [*run.servers, *([run.fake] if run.fake else [])]:
            process.stop()
    metrics = outcome["metrics"]
    checks = [
        {
            "metric": t.metric,
            "value": metrics.get(t.metric),
            "target": t.text,
            "met": t.met(metrics.get(t.metric)),
        }
        for t in scenario.targets
    ]
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "server": options.server,
        "processes": options.processes or scenario.processes,
        "first_token_ms": scenario.first_token_ms,
        "tokens_per_second": scenario.tokens_per_second,
        "scale": options.scale,
        "targets": checks,
        **outcome,
    }


def machine() -> dict[str, Any]:
    cpu_model = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
