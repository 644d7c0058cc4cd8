"""`python -m evaluation`: ask the question set through the real visitor socket and score it.

Creates its own database (demo catalogue loaded today) and Redis database,
starts daphne (and, with `--model fake`, our fake OpenRouter), asks every
question in a fresh chat session, scores the answers against the live
database, prints a table and writes evaluation/results/<timestamp>.json.
See docs/ai.md ("Evaluation").

    --model offline  no OpenRouter key: the offline answerer replies (default)
    --model fake     our fake OpenRouter (tests/fakes/openrouter.py, scenario "tours")
    --model env      OPENROUTER_API_KEY, OPENROUTER_BASE_URL, AI_MODELS from the environment
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evaluation import questionset, stack
from evaluation.report import failures, table


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", choices=["offline", "fake", "env"], default="offline")
    parser.add_argument("--questions", type=Path, default=questionset.QUESTIONS_PATH)
    parser.add_argument(
        "--category", action="append", choices=questionset.CATEGORIES, help="repeatable"
    )
    parser.add_argument("--only", action="append", metavar="ID", help="a question id; repeatable")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per question")
    parser.add_argument("--failures", action="store_true", help="print every failed check")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    return parser.parse_args(argv)


def _setup_django() -> None:
    """This process reads the facts from the same database the server uses."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tatartours.settings"
    os.environ["DATABASE_URL"] = stack.database_url()
    os.environ["REDIS_URL"] = stack.REDIS_URL
    os.environ.pop("TATARTOURS_MODE", None)
    import django

    django.setup()


def _model_env(args: argparse.Namespace, fleet: stack.Stack) -> dict[str, str]:
    if args.model == "fake":
        return {"OPENROUTER_API_KEY": "eval-key", "OPENROUTER_BASE_URL": fleet.start_fake_model()}
    if args.model == "env":
        return {name: os.environ[name] for name in stack.MODEL_SETTINGS if name in os.environ}
    return {}


def _commit() -> str:
    """The code that was evaluated (with "+" when the work tree has changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+" if dirty.stdout.strip() else "")


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.model == "env" and not os.environ.get("OPENROUTER_API_KEY"):
        print("--model env needs OPENROUTER_API_KEY in the environment", file=sys.stderr)
        return 2
    _setup_django()
    try:
        questions = list(questionset.load(args.questions).questions)
    except questionset.QuestionSetError as error:
        print(f"{args.questions}: {error}", file=sys.stderr)
        return 2
    if args.category:
        questions = [q for q in questions if q.category in args.category]
    if args.only:
        questions = [q for q in questions if q.id in args.only]
    if not questions:
        print("no question matches --category/--only", file=sys.stderr)
        return 2
    timeout = args.timeout or (20.0 if args.model == "offline" else 90.0)
    from django.utils import timezone

    from evaluation.run import evaluate

    started = time.strftime("%Y%m%d-%H%M%S")
    log_dir = stack.RESULTS / f"logs-{started}"
    with (
        stack.eval_database(keep=args.keep_db),
        stack.eval_redis(),
        stack.running(log_dir) as fleet,
    ):
        server = fleet.start_daphne(stack.server_env(**_model_env(args, fleet)))
        today = timezone.localdate()
        run = asyncio.run(
            evaluate(
                f"ws://127.0.0.1:{server.port}",
                questions,
                server_pid=server.process.pid,
                today=today,
                timeout=timeout,
            )
        )
    result: dict[str, Any] = {
        "date": today.isoformat(),
        "started": started,
        "model": args.model,
        "questions_file": str(args.questions),
        "command": "python -m evaluation " + " ".join(argv),
        "commit": _commit(),
        "summary": run.summary,
        "questions": [s.as_dict() for s in run.scores],
    }
    print(table(result))
    if args.failures:
        print(failures(run.scores))
    out = args.json or stack.RESULTS / f"{started}-{args.model}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
