"""The human-readable table of a benchmark run (the JSON file holds everything)."""

from __future__ import annotations

from typing import Any

# Metrics shown in the table, in this order, when a scenario has them.
SHOWN = [
    "visitors", "messages_each", "pairs", "rounds_each", "sockets", "sockets_open",
    "sockets_still_open", "messages", "round_trips", "errors", "throughput_per_s",
    "round_trips_per_second", "max_rate_p99_under_100ms", "model_alone_ms",
    "ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "ack_max_ms",
    "first_chunk_p50_ms", "first_chunk_p95_ms", "first_chunk_p99_ms", "first_chunk_max_ms",
    "response_p50_ms", "response_p95_ms", "response_p99_ms", "response_max_ms",
    "overhead_p50_ms", "overhead_p95_ms", "overhead_p99_ms", "overhead_max_ms",
    "round_trip_p50_ms", "round_trip_p95_ms", "round_trip_p99_ms", "round_trip_max_ms",
    "rss_before_mib", "rss_after_mib", "rss_kib_per_socket", "idle_cpu_percent_of_core",
    "idle_cpu_redis_percent", "idle_cpu_postgres_percent",
    "cpu_ms_per_message", "cpu_server_ms_per_message", "cpu_postgres_ms_per_message",
    "cpu_redis_ms_per_message", "db_transactions_per_message", "db_rows_read_per_message",
    "cpu_server_s", "cpu_postgres_s", "cpu_redis_s", "cpu_postgres_shared_s",
    "cpu_fake_model_s", "cpu_generator_s", "cpu_other_processes_s",
    "generator_cpu_share_max", "generator_lateness_p99_ms", "generator_lateness_max_ms",
]  # fmt: skip


def verdict(met: bool | None) -> str:
    return {True: "ok", False: "MISSED", None: "n/a"}[met]


def table(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    targets = {t["metric"]: t for t in result["targets"]}
    lines = [
        f"== {result['scenario']}: {result['description']}",
        f"   {result['processes']} x {result['server']}, model: first token "
        f"{result['first_token_ms']:g} ms, {result['tokens_per_second']:g} tokens/s",
    ]
    width = max(len(name) for name in SHOWN)
    for name in SHOWN:
        if name not in metrics:
            continue
        value = metrics[name]
        line = f"   {name:<{width}}  {value!s:>10}"
        if name in targets:
            target = targets[name]
            line += f"   target {target['target']:<8} {verdict(target['met'])}"
        lines.append(line)
    for step in result.get("steps", []):
        lines.append(
            f"   step {step['offered_rate']:>6g}/s -> {step['achieved_rate']:>6}/s  "
            f"p50 {step['response_p50_ms']} p99 {step['response_p99_ms']} "
            f"max {step['response_max_ms']} ms, errors {step['errors']}, "
            f"cpu/msg {step['cpu_ms_per_message']} ms"
        )
    busy = metrics.get("generator_cpu_share_max")
    if isinstance(busy, float) and busy > 0.85:
        lines.append("   WARNING: the load generator used most of a core: add --generators")
    late = metrics.get("generator_lateness_p99_ms")
    if isinstance(late, int | float) and late > 10:
        lines.append("   WARNING: the load generator's loop ran late; its latencies include that")
    for error in result.get("error_samples", [])[:5]:
        lines.append(f"   error: {error}")
    return "\n".join(lines)
