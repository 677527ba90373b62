"""A local Learning Record Store stand-in: the xAPI Statement Resource, over real HTTP.

Eddy's forwarder (bot/lrs.py) talks to it exactly as to an LRS, and tests make it misbehave
on request: answer errors, store a batch and lose the answer, refuse some statements, or go
down altogether. It keeps what a real LRS keeps about ids: a statement id is stored once, and
a batch holding an id it already has is refused whole (409), as is a PUT of it.

    with LrsStandIn(username="key", password="secret", clock=clock) as lrs:
        settings = load_settings(eddy_lrs_url=lrs.url, eddy_lrs_username="key", …)
        lrs.fail_next(503, times=2)          # the LRS is busy
        lrs.lose_answers()                   # stores the next batch, then drops the connection
        lrs.refuse(statement_id, "result.score.raw: must be a number")     # 422, as Ralph
        lrs.refuse(lambda s: s["verb"]["id"].endswith("/give"), status=413)
        lrs.holds(statement)                 # someone else stored this id before
        lrs.go_down(); lrs.come_back()       # refuses connections, then serves again
        assert len(lrs.received_ids) == len(set(lrs.received_ids))

It serves `POST /xapi/statements` (one statement or an array), `PUT /xapi/statements?
statementId=…` and `GET /xapi/statements?statementId=…`, checks the X-Experience-API-Version
header (1.0.x) and, when given credentials, HTTP Basic auth, and records every request.

A statement it refuses is answered as Ralph (a FastAPI service) answers one its model rejects:
422 with `{"detail": [{"loc": ["body", <position>, <field>], "msg": …, "input": …}]}`, which
quotes the statement back. Its own checks are few (a real LRS checks far more): the statement
is an object with an id, an actor, a verb and an object. GET by id answers what it stored the
way a real LRS does: with `stored`, `authority` and `version` added, the timestamp written its
own way (UTC, `Z`, microseconds) and the keys in another order.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.clock import Clock, SystemClock

log = logging.getLogger(__name__)

#: Where the stand-in's xAPI endpoint lives (EDDY_LRS_URL is this under its address).
BASE_PATH = "/xapi/"
STATEMENTS_PATH = BASE_PATH + "statements"
#: What every statement must have for the stand-in to take it (a real LRS checks far more).
REQUIRED = ("id", "actor", "verb", "object")


@dataclass
class LrsRequest:
    """One request the stand-in received, and the status it answered (0: none, the
    connection was dropped)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0

    @property
    def statement_ids(self) -> list[str]:
        """The ids of the statements in the body (none when it had none)."""
        found = self.body if isinstance(self.body, list) else [self.body]
        return [s["id"] for s in found if isinstance(s, dict) and isinstance(s.get("id"), str)]


@dataclass
class LrsFault:
    """Answer the next `times` statement requests with `status` (0: drop the connection with
    no answer), with Retry-After when given. With `after_storing`, the request is carried out
    first, and only its answer is lost."""

    status: int
    times: int = 1
    retry_after: int | None = None
    after_storing: bool = False


@dataclass(frozen=True)
class LrsRefusal:
    """Refuse, with `status`, any request that holds a statement `which` picks."""

    which: Callable[[dict[str, Any]], bool]
    reason: str
    status: int = 422


@dataclass(eq=False)
class LrsHold:
    """Keep back the answer to the next statement request, after carrying it out, until
    `release` is set; `arrived` is set when that request has come (an instance is mid-send)."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    taken: bool = False


@dataclass
class Lrs:
    """The LRS's state: what it stored, what it was asked, what it must do wrong next."""

    username: str = ""
    password: str = ""
    #: Where `stored` times come from.
    clock: Clock = field(default_factory=SystemClock)
    #: statement id → the statement, as stored
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: statement id → when it was stored
    stored_at: dict[str, datetime] = field(default_factory=dict)
    #: every statement id of every request it accepted (POST or PUT), in order
    received_ids: list[str] = field(default_factory=list)
    requests: list[LrsRequest] = field(default_factory=list)
    faults: list[LrsFault] = field(default_factory=list)
    refusals: list[LrsRefusal] = field(default_factory=list)
    #: Answer GETs 403, as to a key that may write statements but not read them.
    reads_forbidden: bool = False
    holds: list[LrsHold] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: LrsRequest) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body or None, extra headers) for one request; status 0 means the
        connection is dropped without an answer. A held request is carried out first, then
        waits (without the lock, so other requests go on) until its hold is released."""
        with self._lock:
            waiting = [hold for hold in self.holds if not hold.taken]
            hold = waiting[0] if waiting and request.path == STATEMENTS_PATH else None
            if hold is not None:
                hold.taken = True
        answer = self._answer(request)
        if hold is not None:
            hold.arrived.set()
            hold.release.wait()
        return answer

    def release_holds(self) -> None:
        """Let every held answer go (so that stopping never hangs)."""
        with self._lock:
            for hold in self.holds:
                hold.release.set()

    def _answer(self, request: LrsRequest) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            fault = self._fault() if request.path == STATEMENTS_PATH else None
            headers: dict[str, str]
            if fault is not None and not fault.after_storing:
                status, body, headers = fault.status, {"error": "fault on request"}, {}
            else:
                status, body, headers = self._serve(request)
                if fault is not None:
                    status, body = fault.status, {"error": "answer lost on request"}
            if fault is not None and fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            request.status = status
            return status, body, headers

    def _fault(self) -> LrsFault | None:
        for fault in self.faults:
            if fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _serve(self, request: LrsRequest) -> tuple[int, Any, dict[str, str]]:
        if request.path != STATEMENTS_PATH:
            return 404, {"error": f"no resource {request.path}"}, {}
        version = request.headers.get("x-experience-api-version", "")
        if not version.startswith("1.0"):
            return 400, {"error": f"X-Experience-API-Version must be 1.0.x, got {version!r}"}, {}
        if not self._authorised(request.headers.get("authorization", "")):
            return 401, {"error": "unauthorised"}, {"WWW-Authenticate": 'Basic realm="LRS"'}
        if request.method == "POST":
            return self._post(request.body)
        if request.method == "PUT":
            return self._put(request.query.get("statementId", ""), request.body)
        if request.method == "GET":
            return self._get(request.query.get("statementId", ""))
        return 405, {"error": f"{request.method} is not allowed"}, {}

    def _authorised(self, header: str) -> bool:
        if not (self.username or self.password):
            return True
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def _problem(self, where: list[Any], statement: Any) -> tuple[int, Any] | None:
        """(status, body) refusing the statement at `where` in a request's body (None: it
        can be stored): 422 with FastAPI's validation error, as Ralph answers."""
        if not isinstance(statement, dict):
            return 422, _invalid(where, "Input should be a valid dictionary", statement)
        missing = [part for part in REQUIRED if part not in statement]
        if missing:
            return 422, _invalid([*where, missing[0]], "Field required", statement)
        for refusal in self.refusals:
            if refusal.which(statement):
                if refusal.status == 422:
                    return 422, _invalid(where, refusal.reason, statement)
                return refusal.status, {"error": f"statement {statement['id']}: {refusal.reason}"}
        return None

    def _post(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        """Store a batch whole, or none of it."""
        batch = body if isinstance(body, list) else [body]
        for position, statement in enumerate(batch):
            problem = self._problem(["body", position], statement)
            if problem:
                return problem[0], problem[1], {}
        ids = [statement["id"] for statement in batch]
        if len(set(ids)) != len(ids):
            return 400, {"error": "the batch holds one statement id twice"}, {}
        known = [statement_id for statement_id in ids if statement_id in self.stored]
        if known:
            return 409, {"error": f"statement {known[0]} is already stored"}, {}
        self._store(batch)
        return 200, ids, {}

    def _put(self, statement_id: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not statement_id:
            return 400, {"error": "PUT needs the statementId parameter"}, {}
        if isinstance(body, dict) and body.get("id", statement_id) != statement_id:
            return 400, {"error": "the statement's id differs from statementId"}, {}
        statement = {**body, "id": statement_id} if isinstance(body, dict) else body
        problem = self._problem(["body"], statement)
        if problem:
            return problem[0], problem[1], {}
        if statement_id in self.stored:
            return 409, {"error": f"statement {statement_id} is already stored"}, {}
        self._store([statement])
        return 204, None, {}

    def _get(self, statement_id: str) -> tuple[int, Any, dict[str, str]]:
        if self.reads_forbidden:
            return 403, {"error": "this key may not read statements"}, {}
        found = self.stored.get(statement_id)
        if found is None:
            return 404, {"error": f"no statement {statement_id}"}, {}
        held = {
            **found,
            "stored": _written(self.stored_at[statement_id]),
            "authority": {
                "objectType": "Agent",
                "account": {"homePage": "http://127.0.0.1/", "name": self.username or "anyone"},
            },
            "version": "1.0.0",
        }
        with contextlib.suppress(KeyError, TypeError, ValueError):  # none, or unreadable: as is
            held["timestamp"] = _written(datetime.fromisoformat(found["timestamp"]))
        return 200, dict(sorted(held.items(), reverse=True)), {}

    def _store(self, statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            self.stored[statement["id"]] = statement
            self.stored_at[statement["id"]] = self.clock.now()
            self.received_ids.append(statement["id"])


def _invalid(where: list[Any], message: str, statement: Any) -> dict[str, Any]:
    """FastAPI's answer to a body its model rejects (it quotes what it rejected)."""
    return {"detail": [{"type": "value_error", "loc": where, "msg": message, "input": statement}]}


def _written(at: datetime) -> str:
    """A timestamp the way this LRS writes it: UTC, `Z`, to the microsecond."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LrsServer(ThreadingHTTPServer):
    """Serves an `Lrs` on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, lrs: Lrs, port: int = 0) -> None:
        self.lrs = lrs
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.02},  # so that stop() returns at once
            name="lrs-stand-in",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class LrsStandIn:
    """The LRS on a port of its own, which it keeps when it goes down and comes back."""

    def __init__(
        self, *, username: str = "", password: str = "", clock: Clock | None = None
    ) -> None:
        self.lrs = Lrs(username=username, password=password, clock=clock or SystemClock())
        self.server: LrsServer | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The value for EDDY_LRS_URL."""
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    def start(self) -> LrsStandIn:
        self.server = LrsServer(self.lrs, self.port)
        self.port = self.server.server_address[1]
        self.server.start()
        return self

    def stop(self) -> None:
        self.lrs.release_holds()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> LrsStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- faults ----------------------------------------------------------------------------

    def fail_next(
        self, status: int = 503, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next `times` statement requests with `status` and store nothing (0 drops
        the connection without an answer); Retry-After when given."""
        self.lrs.faults.append(LrsFault(status, times, retry_after))

    def lose_answers(self, *, times: int = 1, status: int = 0) -> None:
        """Carry out the next `times` statement requests, then lose the answer: drop the
        connection (status 0) or answer `status` (a 500 from a proxy, say)."""
        self.lrs.faults.append(LrsFault(status, times, after_storing=True))

    def hold_next(self) -> LrsHold:
        """Carry out the next statement request but keep its answer back until the hold's
        `release` is set: the sender is mid-send for as long as the test wants."""
        hold = LrsHold()
        with self.lrs._lock:
            self.lrs.holds.append(hold)
        return hold

    def accept_credentials(self, username: str, password: str) -> None:
        """The LRS's administrator changes the key and secret it accepts."""
        self.lrs.username, self.lrs.password = username, password

    def refuse(
        self,
        which: str | Iterable[str] | Callable[[dict[str, Any]], bool],
        reason: str = "it does not follow the xAPI spec",
        *,
        status: int = 422,
    ) -> None:
        """Refuse any request holding a statement `which` picks (an id, ids, or a test of the
        statement) with `status`: 422 answers as Ralph does for a statement its model rejects;
        another status (400, 413, …) with `{"error": …}`."""
        if callable(which):
            picks = which
        else:
            ids = {which} if isinstance(which, str) else set(which)

            def picks(statement: dict[str, Any]) -> bool:
                return statement.get("id") in ids

        with self.lrs._lock:
            self.lrs.refusals.append(LrsRefusal(picks, reason, status))

    def stop_refusing(self) -> None:
        """Take every statement again (its administrator changed what it accepts)."""
        with self.lrs._lock:
            self.lrs.refusals.clear()

    def holds(self, statement: dict[str, Any]) -> None:
        """It already has this statement, stored by some other system before Eddy came."""
        with self.lrs._lock:
            self.lrs.stored[statement["id"]] = statement
            self.lrs.stored_at[statement["id"]] = self.lrs.clock.now()

    def forbid_reads(self) -> None:
        """Eddy's key may write statements but not read them (GET answers 403)."""
        self.lrs.reads_forbidden = True

    def go_down(self) -> None:
        """Stop listening: connections are refused until `come_back`."""
        self.stop()

    def come_back(self) -> None:
        """Listen again, on the same port, with everything stored before."""
        self.start()

    # --- what it has -----------------------------------------------------------------------

    @property
    def stored(self) -> dict[str, dict[str, Any]]:
        return self.lrs.stored

    @property
    def received_ids(self) -> list[str]:
        return self.lrs.received_ids

    @property
    def requests(self) -> list[LrsRequest]:
        return self.lrs.requests

    def posts(self) -> list[LrsRequest]:
        """Every POST of statements, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path == STATEMENTS_PATH]


class _Handler(BaseHTTPRequestHandler):
    server: LrsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"error": "the body is not JSON"})
            return
        request = LrsRequest(
            method=self.command,
            path=url.path,
            query={name: values[-1] for name, values in parse_qs(url.query).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        status, answer, headers = self.server.lrs.answer(request)
        if status == 0:
            self.close_connection = True
            return
        self._send(status, answer, headers)

    def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("X-Experience-API-Version", "1.0.3")
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("LRS stand-in: " + format, *args)
