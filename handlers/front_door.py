"""The front door: nothing reaches a listener unless Slack signed it and it has Slack's shape.

Every request from Slack over HTTP passes here before Bolt parses anything:

1. the signature: `X-Slack-Request-Timestamp` is a base-10 number of seconds (ASCII digits
   only) within five minutes of this process's clock, either way, and `X-Slack-Signature` is
   the `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret, compared in
   constant time; a signature already used is refused (a replay);
2. the body: a form (`application/x-www-form-urlencoded`: a slash command's fields, or one
   `payload=` field holding an interactivity JSON object) or a JSON object (the Events API),
   in UTF-8;
3. the payload's shape (`handlers.payloads`), and every response URL in it on Slack's hosts.

Unsigned, stale, replayed or altered requests get 401; signed but unreadable ones 400 (a slash
command gets its answer in the ack instead, which the person reads); either way one WARNING
line is logged, no Web API is called and nothing is posted anywhere. What passes is handed to
Bolt as the JSON of the payload that was checked, so Bolt's own parsing (which, for one, reads a
slash command whose text contains "payload" as an empty body) never differs from it.

The same checks run as Bolt's first middleware (`FrontDoor.middleware`, in place of Bolt's
RequestVerification, which lets slack_sdk's `int(timestamp)` raise into the error handler),
so a request handed straight to `app.dispatch` is held to them too.

    door = FrontDoor(settings.slack_signing_secret, settings.slack_api_url)
    verdict = door.admit(raw_body, headers)
    if isinstance(verdict, Answer):
        return verdict.response()           # 401, 400, or a slash command's explanation
    app.dispatch(verdict.request(headers))
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request.internals import build_context

from handlers.payloads import (
    CALLBACKS,
    INTERACTIONS,
    Kind,
    Problem,
    is_slack_hook,
    problem,
    response_urls,
)

log = logging.getLogger(__name__)

#: How far a request's timestamp may be from this process's clock, either way (Slack's rule).
WINDOW = 5 * 60
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
#: A slash command has about fifteen fields; a form with many more is not from Slack.
MAX_FIELDS = 64
#: Set in a request's context once it has passed the front door (over HTTP, before Bolt), so
#: that Bolt's middleware does not check it twice (a second check would see a replay).
ADMITTED = "eddy_front_door_admitted"
UNREADABLE_COMMAND = (
    "Sorry, I couldn't read that command: Slack's request was missing something I need. "
    "Please try it again; if this keeps happening, tell whoever runs Eddy."
)


@dataclass(frozen=True)
class Answer:
    """What the front door answers itself, without dispatching: a refusal, or a reply Slack
    expects from every app (an `ssl_check`). `reason` is the log line (None: not logged)."""

    status: int
    body: str | dict[str, Any]
    reason: str | None = None

    @classmethod
    def unsigned(cls, reason: str) -> Answer:
        return cls(401, "Request not signed by Slack", f"Refused a request: {reason}")

    @classmethod
    def malformed(cls, reason: str) -> Answer:
        return cls(400, f"Malformed request: {reason}", f"Refused a signed request: {reason}")

    @classmethod
    def unreadable(cls, trouble: Problem) -> Answer:
        if trouble.kind == "command":
            reply = {"response_type": "ephemeral", "text": UNREADABLE_COMMAND}
            return cls(200, reply, f"Could not read a signed slash command: {trouble.reason}")
        return cls.malformed(trouble.reason)

    def response(self) -> BoltResponse:
        if isinstance(self.body, dict):
            return BoltResponse(
                status=self.status,
                body=json.dumps(self.body),
                headers={"content-type": "application/json;charset=utf-8"},
            )
        return BoltResponse(
            status=self.status, body=self.body, headers={"content-type": "text/plain;charset=utf-8"}
        )

    def log(self) -> None:
        if self.reason:
            log.warning("%s", self.reason)


@dataclass(frozen=True)
class Admitted:
    """A signed request with a payload Eddy can read."""

    payload: dict[str, Any]
    kind: Kind

    def request(self, headers: Mapping[str, str | Sequence[str]]) -> BoltRequest:
        """The request for `app.dispatch`: the checked payload as JSON (see the module)."""
        kept: dict[str, str | Sequence[str]] = {
            name: value
            for name, value in headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        return BoltRequest(
            body=json.dumps(self.payload),
            headers={**kept, "content-type": JSON},
            context={ADMITTED: True},
        )


class ReplayGuard:
    """The signatures of the requests this process accepted in the last `WINDOW` seconds.

    Per process, by choice: checking across instances would need a shared write (a database
    row) for every request Slack sends, the most frequent being reactions, on the path that
    must answer within 3 seconds. Behind a load balancer an instance therefore does not see a
    signature another one accepted; events are still handled once everywhere (their event_id
    is recorded in the database, `bot.events`), and a replay needs a request captured in
    spite of TLS and sent again within five minutes. Memory is bounded by the request rate
    times the window.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def first_use(self, signature: str, *, expires: float, now: float) -> bool:
        """Record `signature` until `expires`; False when it was already recorded."""
        with self._lock:
            while self._expiries and self._expiries[0][0] < now:
                _, old = heapq.heappop(self._expiries)
                self._seen.discard(old)
            if signature in self._seen:
                return False
            self._seen.add(signature)
            heapq.heappush(self._expiries, (expires, signature))
            return True


def header(headers: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    """The one value of header `name` (any case); None when absent or given more than once."""
    values = [value for key, value in headers.items() if key.lower() == name]
    if len(values) != 1:
        return None
    value = values[0]
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 and isinstance(value[0], str) else None


class FrontDoor:
    """Slack's signature, the body and the payload's shape, checked once per request."""

    def __init__(self, signing_secret: str, api_url: str) -> None:
        self._secret = signing_secret.encode()
        self.api_url = api_url
        self.replays = ReplayGuard()

    def admit(self, body: bytes, headers: Mapping[str, str | Sequence[str]]) -> Admitted | Answer:
        """The verdict on a raw request from Slack."""
        refusal = self.verify(body, headers)
        if refusal is not None:
            return refusal
        parsed = read(body, header(headers, "content-type"))
        if isinstance(parsed, Answer):
            return parsed
        return self.check(*parsed)

    def verify(self, body: bytes, headers: Mapping[str, str | Sequence[str]]) -> Answer | None:
        """None when Slack signed `body` within the last five minutes and it is not a replay.

        Freshness is a security property, so it is measured against this process's real
        time (`time.time()`), never the runtime's clock that tests and the sandbox move:
        Slack stamps its requests with real time, and so does the stand-in."""
        if not self._secret:
            return Answer.unsigned("no SLACK_SIGNING_SECRET to check signatures with")
        stamp = header(headers, "x-slack-request-timestamp")
        signature = header(headers, "x-slack-signature")
        if stamp is None or signature is None:
            return Answer.unsigned("no single signature and timestamp")
        if not TIMESTAMP.fullmatch(stamp):
            return Answer.unsigned("a timestamp that is not a whole number of seconds")
        now = time.time()
        if abs(now - int(stamp)) > WINDOW:
            return Answer.unsigned("a timestamp more than five minutes from now")
        expected = (
            "v0="
            + hmac.new(
                self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
            ).hexdigest()
        )
        if not SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature):
            return Answer.unsigned("a signature that does not match")
        if not self.replays.first_use(
            replay_key(signature, headers), expires=int(stamp) + WINDOW, now=now
        ):
            return Answer.unsigned("a signature already used (a replay)")
        return None

    def check(self, payload: Any, kind: Kind) -> Admitted | Answer:
        """Whether Eddy can read `payload` (see `handlers.payloads`) and may answer where it
        says; a signed `ssl_check` is answered here."""
        trouble = problem(payload, kind)
        if trouble is not None:
            return Answer.unreadable(trouble)
        if kind == "command" and "ssl_check" in payload:
            return Answer(200, "")
        for url in response_urls(payload):
            if not is_slack_hook(url, self.api_url):
                return Answer.malformed("a response URL that is not Slack's")
        return Admitted(payload, kind)

    def middleware(self) -> Middleware:
        """The same checks as Bolt's first middleware, for requests given to `app.dispatch`."""
        return FrontDoorMiddleware(self)


def replay_key(signature: str, headers: Mapping[str, str | Sequence[str]]) -> str:
    """What makes a request the same one again. Slack retries an event it thinks was lost
    (with `X-Slack-Retry-Num`); should a retry ever carry the first attempt's timestamp, and so
    its signature, it is not a replay: an event (a JSON body) is told apart by its retry
    number, and handled once anyway by its event_id (`bot.events`). Slack retries nothing else,
    so for a form (a command, a button, a modal) the signature alone decides."""
    media = (header(headers, "content-type") or "").split(";")[0].strip().lower()
    retry = header(headers, "x-slack-retry-num") if media == JSON else None
    return f"{signature}#{retry}" if retry else signature


def read(body: bytes, content_type: str | None) -> tuple[Any, Kind] | Answer:
    """The payload in `body` and how it came, as Slack sends each kind; else a 400."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in (FORM, JSON):
        return Answer.malformed("a content type other than a form or JSON")
    if not body:
        return Answer.malformed("an empty body")
    try:
        text = body.decode("utf-8")
        if media == JSON:
            if not text.startswith("{"):
                return Answer.malformed("a JSON body that is not an object")
            return strict_json(text), "event"
        if text.startswith("{"):
            return Answer.malformed("a form body that is JSON")
        fields = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, RecursionError) as error:
        return Answer.malformed(f"a body that cannot be read ({type(error).__name__})")
    form = dict(fields)
    if len(form) != len(fields):
        return Answer.malformed("a form with a field given twice")
    if "payload" not in form:
        return form, "command"
    if len(form) != 1:
        return Answer.malformed("an interactivity form with fields besides `payload`")
    try:
        return strict_json(form["payload"]), "interaction"
    except (ValueError, RecursionError) as error:
        return Answer.malformed(f"a payload that is not JSON ({type(error).__name__})")


def strict_json(text: str) -> Any:
    """JSON as Slack writes it: no NaN or Infinity (Python's json accepts them)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def kind_of(payload: Any) -> Kind:
    """The kind of a payload that came with no form or envelope to say (a request built in
    this process): interactivity and callbacks name their type; a slash command has none."""
    name = payload.get("type") if isinstance(payload, dict) else None
    if name in INTERACTIONS:
        return "interaction"
    if name in CALLBACKS:
        return "event"
    return "command"


class FrontDoorMiddleware(Middleware):
    """Bolt's first middleware: the front door's checks for a request that did not come
    through it (handed to `app.dispatch` in this process). It never raises: an exception here
    would reach Bolt's error handler with a request nobody verified."""

    def __init__(self, door: FrontDoor) -> None:
        self.door = door

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        try:
            verdict = self.verdict(req)
        except Exception as error:
            verdict = Answer.malformed(f"a request Eddy could not check ({type(error).__name__})")
        if isinstance(verdict, Answer):
            verdict.log()
            return verdict.response()
        next()
        return resp

    def verdict(self, req: BoltRequest) -> Admitted | Answer | None:
        if req.context.get(ADMITTED):
            return None
        if req.mode == "socket_mode":
            # Slack does not sign what it sends over the socket: holding it is the proof.
            verdict = self.door.check(req.body, kind_of(req.body))
        else:
            verdict = self.door.admit(req.raw_body.encode("utf-8"), req.headers)
        if isinstance(verdict, Admitted):
            # Listeners read what was checked, not Bolt's own parse of the raw body.
            req.body = verdict.payload
            build_context(req.context, verdict.payload)
            req.context[ADMITTED] = True
        return verdict
