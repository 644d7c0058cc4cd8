"""The shipped deploy/nginx.conf and docker-compose.yml's daphne, run on loopback.

The config is the shipped one with only what ties it to Docker replaced: the
upstream is one daphne on a free port (no Docker DNS resolver), nginx listens
on a free port, runs in the foreground and keeps its files in a temporary
directory. Every proxy_set_header line is the shipped one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.servers import ROOT, ServerProcess, free_port, server_env, wait_for_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def compose_daphne_args() -> list[str]:
    """docker-compose.yml's `web` command line, without the bind address and port."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"]["web"]["command"])
    # daphne through the project's launcher (tatartours/daphne_server.py).
    assert command[:3] == ["python", "-m", "tatartours.daphne_server"], command
    args = command[3:]
    for flag in ("-b", "-p"):
        at = args.index(flag)
        del args[at : at + 2]
    return args


@contextmanager
def compose_daphne(log_dir: Path, **env: str) -> Iterator[ServerProcess]:
    """daphne started as docker-compose.yml starts it, on a free loopback port."""
    port = free_port()
    log_path = log_dir / f"daphne-compose-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tatartours.daphne_server",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                *compose_daphne_args(),
            ],
            cwd=ROOT,
            env=server_env(**env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log_path)
    try:
        wait_for_port(port, process=process)
        yield server
    finally:
        server.stop()


def render_config(upstream_port: int, listen_port: int, workdir: Path) -> str:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = re.sub(r"^\s*resolver [^;]*;\n", "", conf, flags=re.MULTILINE)
    conf = re.sub(r"server web:8000[^;]*;", f"server 127.0.0.1:{upstream_port};", conf)
    conf = conf.replace("listen 80;", f"listen {listen_port};")
    conf = conf.replace("worker_processes auto;", "worker_processes 1;")
    conf = re.sub(r"worker_connections \d+;", "worker_connections 256;", conf)
    user = "user root;\n" if os.geteuid() == 0 else ""
    head = f"{user}daemon off;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\n"
    temp = "".join(
        f"    {kind}_temp_path {workdir}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {\n", f"http {{\n    access_log {workdir}/access.log;\n{temp}", 1)
    return head + conf


@contextmanager
def shipped_nginx(upstream: ServerProcess, workdir: Path) -> Iterator[int]:
    """nginx with the shipped config in front of `upstream`; yields its port."""
    if not Path(NGINX).exists():
        raise RuntimeError("nginx not found: `make browser` installs Debian's package")
    port = free_port()
    config = workdir / "nginx.conf"
    config.write_text(render_config(upstream.port, port, workdir))
    process = subprocess.Popen(
        [NGINX, "-c", str(config), "-p", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "stderr.log").open("wb"),
    )
    try:
        wait_for_port(port, process=process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
