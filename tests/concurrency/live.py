"""The real server as a process, and a user's HTTP connection to it: shared by the concurrency suite
(tests/concurrency/test_live_server.py) and the load benchmark (bench/load_test.py), so that both start
``planner run`` the same way and talk to it the same way. No pytest here: the benchmark runs without it.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CLI = [sys.executable, "-c", "from planner.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def planner_env(database_url: str, instance: Path, **more: str) -> dict[str, str]:
    """The environment ``planner`` commands run in: this checkout's code first, its own instance folder and secret;
    ``more`` adds variables (REDIS_URL)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "PLANNER_INSTANCE_PATH": str(instance),
        "SECRET_KEY": uuid.uuid4().hex,
        **more,
    }
    if "REDIS_URL" not in more:
        env.pop("REDIS_URL", None)  # jobs run in the web process unless a Redis is named
    return env


def start_server(env: dict[str, str], port: int, log: Path, *, workers: int, threads: int) -> subprocess.Popen:
    """``planner run`` (gunicorn) on loopback, its output in ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                *CLI,
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(port: int, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Until the login page answers; RuntimeError (with the log's end) when the server exits or stays silent.
    Loading the application takes most of a minute on a busy shared machine, hence the generous wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"planner run exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        probe = Browser(port)
        try:
            if probe.request("GET", "/login")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            probe.conn.close()
    raise RuntimeError(f"planner run did not answer within {timeout:.0f} s")


class Browser:
    """One user's keep-alive connection and cookies; redirects are not followed (the status is the answer). The
    last page's CSRF token is kept for :meth:`post`."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form, doseq=True) if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A sync worker closed the kept-alive connection between requests: open a new one (once).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        text = data.decode("utf-8", errors="replace")
        m = TOKEN.search(text)
        if m:
            self.token = m.group(1) or m.group(2)
        return response.status, text

    def upload(self, path: str, files: dict[str, tuple[str, bytes]], form: dict | None = None) -> tuple[int, str]:
        """A multipart POST of ``files`` (field -> (file name, content)) with the last page's CSRF token."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in {"csrf_token": self.token, **(form or {})}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (file_name, content) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request("POST", path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            key, _, rest = header.partition("=")
            self.cookies[key.strip()] = rest.split(";", 1)[0]
        m = TOKEN.search(text)
        if m:
            self.token = m.group(1) or m.group(2)
        return response.status, text

    def post(self, path: str, form: dict) -> tuple[int, str]:
        return self.request("POST", path, {"csrf_token": self.token, **form})

    def login(self, username: str, password: str) -> int:
        self.request("GET", "/login")
        status, _ = self.post("/login", {"username": username, "password": password})
        return status
