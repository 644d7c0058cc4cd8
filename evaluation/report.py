"""The human-readable table of an evaluation run (the JSON file holds every answer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evaluation.scoring import Score

# The targets (#12), shown next to each figure.
TARGETS = {
    "retrieval_at_3_percent": ">= 95",
    "facts_right_percent": ">= 95",
    "wrong_facts": "0",
    "answers_breaking_own_conditions": "0",
    "handoff_recall_percent": ">= 90",
    "handoff_precision_percent": ">= 90",
    "false_handoffs": "0",
    "offtopic_redirected_percent": ">= 90",
    "padded_answers": "0",
    "mean_length": "<= 400",
    "server_cpu_ms_per_question": "< 50",
}


def _count(pair: Any) -> str:
    if isinstance(pair, list | tuple) and len(pair) == 2 and pair[1]:
        return f"{pair[0]}/{pair[1]}"
    return "-"


def table(result: dict[str, Any]) -> str:
    summary = result["summary"]
    lines = [
        f"== evaluation {result['date']} of {result.get('commit') or '?'}, "
        f"model: {result['model']}, "
        f"{summary['questions']} questions, {summary['errors']} without an answer",
        f"   sources: {summary.get('sources')}",
    ]
    counts = {
        "retrieval_at_3_percent": _count(summary["retrieval_at_3"]),
        "facts_right_percent": _count(summary["facts_right"]),
        "handoff_recall_percent": (
            f"{summary['handoffs']['right']}/{summary['handoffs']['expected']}"
        ),
        "handoff_precision_percent": (
            f"{summary['handoffs']['right']}/{summary['handoffs']['made']}"
        ),
        "offtopic_redirected_percent": _count(summary["offtopic_redirected"]),
        "wrong_facts": f"in {summary['answers_with_wrong_facts']} answers",
    }
    width = max(len(name) for name in TARGETS)
    for name, target in TARGETS.items():
        value = summary.get(name)
        shown = "n/a" if value is None else str(value)
        lines.append(f"   {name:<{width}}  {shown:>8}  {counts.get(name, ''):<14} target {target}")
    if summary.get("stale_clauses"):
        lines.append(
            "   WARNING: clauses no longer in their FAQ entry or tour (not scored; update "
            f"evaluation/questions.yaml): {summary['stale_clauses']}"
        )
    if summary.get("mean_answer_ms") is not None:
        lines.append(f"   {'mean_answer_ms':<{width}}  {summary['mean_answer_ms']:>8}")
    lines.append("")
    lines.append(
        f"   {'category':<14} {'n':>3} {'retrieval':>10} {'facts':>7} {'wrong':>6} "
        f"{'broken':>7} {'handoffs':>9} {'length':>7}"
    )
    for category, row in summary["categories"].items():
        lines.append(
            f"   {category:<14} {row['questions']:>3} {_count(row['retrieval']):>10} "
            f"{_count(row['facts']):>7} {row['wrong_facts']:>6} {row['violations']:>7} "
            f"{row['handoffs']:>9} {row['mean_length']:>7}"
        )
    return "\n".join(lines)


def failures(scores: Sequence[Score]) -> str:
    """Every failed check, question by question, with the answer's start."""
    lines = []
    for s in scores:
        problems = []
        if s.error:
            problems.append(f"error: {s.error}")
        if s.retrieval is False:
            problems.append(f"retrieval: expected {s.expected_tours + s.expected_faq}")
        problems += [f"missing {m}" for m in s.missing_facts]
        problems += [f"wrong {w}" for w in s.wrong_facts]
        problems += [f"breaks {v}" for v in s.violations]
        if s.handoff != s.handoff_expected:
            problems.append(f"handoff {s.handoff} (expected {s.handoff_expected})")
        if s.offtopic is False:
            problems.append("off-topic not redirected")
        if s.padded:
            problems.append("padded")
        if problems:
            lines.append(f"-- {s.question_id} [{s.category}] {s.text}")
            lines.append(f"   shown: {s.shown[:5]}")
            lines += [f"   {p}" for p in problems]
            lines.append("   answer: " + s.answer[:300].replace("\n", " / "))
    return "\n".join(lines)
