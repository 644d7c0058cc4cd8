"""Sampling the server processes with py-spy while a scenario runs.

`python -m bench run --profile` records each server process with
`py-spy record --format raw --gil` (collapsed stacks of the thread holding
the GIL: Python's CPU, not its waits) during the measured part of a
scenario, then writes a summary: the functions with the most samples,
inclusive (on the stack) and self (at the top).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed: pip install py-spy (the bench extra)")
    return found


class Sampler:
    def __init__(self, pids: list[int], out_dir: Path, label: str) -> None:
        self.paths = [out_dir / f"profile-{label}-{pid}.txt" for pid in pids]
        self.popens = [
            subprocess.Popen(
                [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                 "--gil", "--output", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, path in zip(pids, self.paths, strict=True)
        ]  # fmt: skip

    def stop(self) -> list[Path]:
        for popen in self.popens:
            if popen.poll() is None:
                popen.send_signal(signal.SIGINT)
        for popen in self.popens:
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()
        return [path for path in self.paths if path.exists()]


def frame_name(frame: str) -> str:
    """`handler (chat/consumers.py:120)` -> `handler (chat/consumers.py)`: one line per function."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def summarize(paths: list[Path], top: int = 40) -> str:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [frame_name(f) for f in stack.split(";")]
            total += count
            for name in set(frames[1:]):
                inclusive[name] += count
            self_time[frames[-1]] += count
    lines = [f"{total} samples (Python holding the GIL, all threads)", "", "inclusive %  function"]
    for name, count in inclusive.most_common(top):
        lines.append(f"{count / total * 100:10.1f}  {name}")
    lines += ["", "self %      function"]
    for name, count in self_time.most_common(top):
        lines.append(f"{count / total * 100:10.1f}  {name}")
    return "\n".join(lines)
