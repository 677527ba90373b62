"""A real Learning Record Store for the tests: Ralph (PyPI `ralph-malph` 5.1.x), its xAPI
server with HTTP Basic auth and the file-system backend, in a process of its own.

Ralph cannot live in Eddy's environment: its `lrs` extra pins FastAPI 0.114 (so Starlette
0.38) and uvicorn 0.30, and Eddy needs Starlette 1.x and uvicorn 0.54. So it gets an
environment of its own, made with uv from tests/ralph-requirements.txt (every version pinned)
the first time a test asks for it, kept beside Eddy's virtual environment and made again only
when that file changes. Where it cannot be made (no uv, no package index), `ralph_python()`
raises `RalphUnavailableError` with the reason, for the test to skip with.

This file has two halves. Run as a script, in Ralph's environment, it serves Ralph on
127.0.0.1 with its home folder's credentials and data:

    <ralph env>/bin/python tests/ralph_lrs.py --home DIR --port 0

Imported, in Eddy's environment (standard library only), it starts and stops that process:

    with RalphLrs(home, username="key", password="secret") as ralph:
        load_settings(eddy_lrs_url=ralph.url, …)   # http://127.0.0.1:<port>/xAPI/
        ralph.stop(); ralph.start()                 # down, then back on the same port and data
        ralph.statements()                          # all GET /xAPI/statements returns

The one change made to Ralph: its FS LRS backend keeps every statement in one JSON Lines
file, but writes with the data backend's default operation, CREATE, which refuses a file that
exists, so as shipped every write after the first answers 500 ("… already exists and
overwrite is not allowed"). The launcher makes APPEND that backend's default, which is what
a statement log needs; validation, auth, ids and conflicts stay Ralph's own.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

REQUIREMENTS = Path(__file__).with_name("ralph-requirements.txt")
#: Ralph's environment: beside Eddy's own when the tests run in one (`uv run`), so it is
#: made once per checkout; in the temporary folder otherwise.
ENVIRONMENT = (
    Path(sys.prefix) / "ralph-lrs"
    if sys.prefix != sys.base_prefix
    else Path(tempfile.gettempdir()) / "eddy-ralph-lrs"
)
#: Where Ralph's statement resource lives under its address (EDDY_LRS_URL is this).
XAPI_PATH = "/xAPI/"
VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}
#: How long a start may take before it counts as failed: a bound for a broken setup, far
#: above the second or two it takes.
START_WITHIN_SECONDS = 120.0
#: The launcher's environment variables for the one account it creates (kept off the
#: command line).
USERNAME_VARIABLE, PASSWORD_VARIABLE = "EDDY_RALPH_USERNAME", "EDDY_RALPH_PASSWORD"


class RalphUnavailableError(Exception):
    """Ralph cannot be installed or started here; the message says why."""


# --- Eddy's side: installing, starting, stopping, reading back ------------------------------


def ralph_python() -> Path:
    """The Python of Ralph's environment, made first if it is missing or was made from other
    requirements (under a lock, should two test runs ask at once)."""
    python = ENVIRONMENT / "bin" / "python"
    wanted = REQUIREMENTS.read_text()
    made_from = ENVIRONMENT / "made-from.txt"
    if made_from.is_file() and made_from.read_text() == wanted and python.exists():
        return python
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise RalphUnavailableError("uv, which installs Ralph's own environment, is not on PATH")
    ENVIRONMENT.parent.mkdir(parents=True, exist_ok=True)
    with _locked(ENVIRONMENT.with_name(ENVIRONMENT.name + ".lock")):
        if made_from.is_file() and made_from.read_text() == wanted and python.exists():
            return python
        shutil.rmtree(ENVIRONMENT, ignore_errors=True)
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(ENVIRONMENT)])
        _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(REQUIREMENTS)])
        made_from.write_text(wanted)
    return python


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(command: list[str]) -> None:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ENVIRONMENT.parent,
        env=_without_project_environment(),
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RalphUnavailableError(
            f"`{' '.join(command[:3])} …` failed (exit {done.returncode}): " + " / ".join(said)
        )


def _without_project_environment() -> dict[str, str]:
    """This process's environment less what points at Eddy's environment or configures
    Ralph (a developer's own RALPH_* settings must not leak into the test's LRS)."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    return {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith("RALPH_")
    }


class RalphLrs:
    """Ralph serving on 127.0.0.1, its credentials file, statements and log in `home`. The
    first start picks a free port; later starts take the same one (EDDY_LRS_URL stays)."""

    def __init__(self, home: Path, *, username: str, password: str) -> None:
        self.home = home
        self.username = username
        self.password = password
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.python = ralph_python()

    @property
    def base(self) -> str:
        if not self.port:
            raise RuntimeError("Ralph has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The xAPI endpoint, for EDDY_LRS_URL."""
        return self.base + XAPI_PATH

    @property
    def log(self) -> Path:
        return self.home / "ralph.log"

    @property
    def statements_file(self) -> Path:
        """The FS backend's statement log: one JSON statement a line, as Ralph stored it."""
        return self.home / "statements" / "fs_lrs.jsonl"

    def start(self) -> RalphLrs:
        """Start Ralph and return once it answers its heartbeat."""
        if self.running:
            return self
        self.home.mkdir(parents=True, exist_ok=True)
        port_file = self.home / "port"
        port_file.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.python), __file__, "--home", str(self.home), "--port", str(self.port)],
                cwd=self.home,  # Ralph also reads a .env from where it runs
                env=_without_project_environment()
                | {USERNAME_VARIABLE: self.username, PASSWORD_VARIABLE: self.password},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while not self._answers(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                said = self.log.read_text(errors="replace").strip().splitlines()[-15:]
                raise RalphUnavailableError("Ralph did not start:\n" + "\n".join(said))
            time.sleep(0.05)
        return self

    def _answers(self, port_file: Path) -> bool:
        if not self.port:
            if not port_file.is_file():
                return False
            self.port = int(port_file.read_text())
        try:
            with urllib.request.urlopen(self.base + "/__heartbeat__", timeout=5) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop Ralph (its data stays in `home`); connections are refused until `start`."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> RalphLrs:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        credentials: tuple[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request to Ralph (the account's credentials unless others are given): its
        status, headers and JSON body (None when empty)."""
        username, password = credentials or (self.username, self.password)
        pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers = VERSION_HEADER | {"Authorization": f"Basic {pair}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            urljoin(self.base, path), data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, got, text = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, got, text = error.code, dict(error.headers), error.read()
        return status, {k.lower(): v for k, v in got.items()}, json.loads(text) if text else None

    def statements(self, *, page_size: int = 0) -> list[dict[str, Any]]:
        """Everything a plain GET of the statement resource returns, page by page (following
        `more`), in the order Ralph gives; `page_size` asks for pages that small (0: Ralph's
        own limit, 100)."""
        found: list[dict[str, Any]] = []
        path: str | None = XAPI_PATH + "statements" + (f"?limit={page_size}" if page_size else "")
        while path:
            status, _, page = self.request("GET", path)
            if status != 200:
                raise AssertionError(f"GET {path} answered {status}: {page}")
            found += page["statements"]
            path = page.get("more") if page["statements"] else None
        return found

    def stored(self) -> list[dict[str, Any]]:
        """Every statement in the FS backend's file, duplicates included (what a GET shows
        is read from it too; this also works while Ralph is stopped)."""
        if not self.statements_file.is_file():
            return []
        lines = self.statements_file.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


# --- Ralph's side: the server (run in Ralph's environment) ----------------------------------


def serve(home: Path, port: int) -> None:
    """Write the credentials file (bcrypt-hashed, as Ralph reads it), configure Ralph through
    its RALPH_* variables, make the FS backend append, bind, write the port, serve."""
    import bcrypt
    import uvicorn

    credentials = home / "auth.json"
    password = os.environ[PASSWORD_VARIABLE].encode()
    account = {
        "username": os.environ[USERNAME_VARIABLE],
        # Few rounds: a test credential, checked once per run (Ralph caches the result).
        "hash": bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode("ascii"),
        "scopes": ["all"],
        "agent": {"mbox": "mailto:eddy-tests@example.com"},
    }
    credentials.write_text(json.dumps([account]))
    os.environ.update(
        {
            "RALPH_APP_DIR": str(home),
            "RALPH_AUTH_FILE": str(credentials),
            "RALPH_HISTORY_FILE": str(home / "history.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(home / "statements"),
        }
    )
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    from ralph.api import app

    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", port))
    written = home / "port.new"
    written.write_text(str(listening.getsockname()[1]))
    written.replace(home / "port")
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listening])


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Ralph's LRS for Eddy's tests.")
    parser.add_argument("--home", type=Path, required=True, help="credentials, data, log")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    arguments = parser.parse_args()
    serve(arguments.home, arguments.port)


if __name__ == "__main__":
    main()
