"""Eddy as an operator runs it: `app.py run` in its own process, configured for a stand-in."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sandbox import SlackStandIn
from tests.conftest import PINNED, ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def real_clock() -> dict[str, str]:
    """The environment that runs a process on the real clock when this one runs under
    libfaketime (`faketime -f '+400d' uv run pytest`, which shows that no test depends on the
    date): slack_sdk's Socket Mode client runs on timed waits, which libfaketime 0.9.10 cannot
    fake (glibc's sem_clockwait), so under it the client would wait forever. Eddy's own clock
    in that process is pinned by EDDY_CLOCK either way, and Socket Mode carries no signature
    that the two processes' clocks would have to agree on."""
    preload = os.environ.get("LD_PRELOAD", "")
    kept = " ".join(part for part in preload.split() if "faketime" not in part)
    return {"LD_PRELOAD": kept} if kept != preload else {}


class EddyProcess:
    """`app.py run --mode MODE` on a SQLite file, talking to `stand_in`'s Web API.

    Its log goes to a file beside the database, not a pipe: a full pipe would block Eddy."""

    def __init__(
        self,
        stand_in: SlackStandIn,
        database: Path,
        mode: str,
        *args: str,
        root: Path = ROOT,
        **env: str,
    ) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EDDY_"))}
        clean |= {
            "EDDY_CLOCK": PINNED.isoformat(),
            "SLACK_BOT_TOKEN": stand_in.bot_token,
            "SLACK_API_URL": stand_in.api_url,
            "DATABASE_URL": f"sqlite:///{database}",
        }
        command = [sys.executable, str(root / "app.py"), "run", "--mode", mode, *args]
        self.log = database.parent / "eddy.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=database.parent, env=clean | env, stderr=log, stdin=subprocess.DEVNULL
            )

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as a supervisor sends it; returns the exit status and everything logged."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return self.process.returncode, self.log.read_text()

    def failed_to_start(self, what: str) -> AssertionError:
        self.process.kill()
        self.process.wait(timeout=30)
        return AssertionError(f"Eddy {what}: {self.log.read_text()}")


class HttpEddy(EddyProcess):
    """HTTP mode on a free port, returned once `GET /readyz` answers 200: alive (`/healthz`)
    and its content loaded, so that questions get answers at once."""

    def __init__(
        self, stand_in: SlackStandIn, database: Path, *, root: Path = ROOT, **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            stand_in,
            database,
            "http",
            "--port",
            str(self.port),
            root=root,
            SLACK_SIGNING_SECRET=stand_in.signing_secret,
            **env,
        )
        deadline = time.monotonic() + 30
        check = "/readyz"
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + check, timeout=1):
                    return
            except urllib.error.HTTPError as error:
                if error.code == 404:  # an Eddy from before /readyz (a benchmark's baseline)
                    check = "/healthz"
                time.sleep(0.1)
            except OSError:
                time.sleep(0.1)
        raise self.failed_to_start("did not become healthy")
