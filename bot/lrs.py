"""Forwarding learning records to a Learning Record Store (EDDY_LRS_URL), through the outbox.

Statements are queued in the database (store/lrs.py) before anything is sent, and leave the
outbox only when the LRS has them or has refused them for good: an LRS outage, a crash or a
restart loses nothing, and the stable statement ids (bot/xapi.py) mean nothing is stored twice.

Two scheduled jobs do the work, on every instance at once, deciding against the database:

- `queue_new` records new events in the ledger (bot/xapi.py), then re-reads the statements
  recorded since the workspace's cursor (less an overlap, because a row can commit a little
  after its timestamp) and queues them; an id already in the outbox is skipped by its primary
  key.
- `forward` claims the oldest due statements in batches (a lease keeps other instances off
  them) and POSTs each batch to `<EDDY_LRS_URL>statements`. What the LRS answers decides:

  | answer                        | what happens                                           |
  |-------------------------------|--------------------------------------------------------|
  | 2xx                           | sent                                                   |
  | 409 Conflict                  | it knows some of the ids: each statement is PUT by id  |
  | 400, 413, 422, other 4xx      | it refuses some statement: each is PUT by id, to find  |
  |                               | which; the others go on                                |
  | 401, 403                      | Eddy's credentials: everything waits (logged: check    |
  |                               | EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD)               |
  | 404, 405, 3xx                 | the address: everything waits (logged: check           |
  |                               | EDDY_LRS_URL)                                          |
  | 408, 425, 429, 5xx, none      | the LRS is away or busy: everything waits              |

  And to a PUT of one statement:

  | answer                        | what happens                                           |
  |-------------------------------|--------------------------------------------------------|
  | 2xx                           | sent                                                   |
  | 409 Conflict                  | it has a statement under that id: Eddy GETs it and     |
  |                               | compares. The same → sent ("already there"); different |
  |                               | or not shown → `rejected`, logged as an error          |
  | a 4xx about the statement     | `rejected` with the LRS's reason, logged as an error   |
  | anything else                 | this and the rest of the batch wait, as above          |

"Everything waits" is the LRS's backoff, shared by every instance in the database (one row per
endpoint, store/lrs.py): nobody sends before its next try, which is 30 seconds after the first
failure, doubling with each failure in a row up to an hour, less a little at random (or the
Retry-After the LRS asked for); then one instance finds out whether it is back, and the first
answer resets it. New statements keep arriving meanwhile and wait with the rest, so a busy
workspace does not make Eddy knock on a down LRS every pass. `app.py lrs retry` tries at once
(after fixing the credentials or the address), and `--rejected` sends the refused ones again.

A rejected statement is never retried on its own: the LRS said it will not take it as it is.
`app.py lrs status` lists them with the LRS's reasons.

Nothing is sent twice for long: the lease expires only if an instance dies mid-send, and
whoever sends the batch again then meets the LRS's own check of the ids (xAPI: an LRS never
stores a statement id twice), which the 409 path turns into `sent` once Eddy has seen that the
LRS holds the same statement.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from bot.runtime import Runtime
from bot.settings import Settings
from bot.text import plural
from bot.xapi import EDDY_ACCOUNT, VERSION, known_workspaces, record, statements_in, windows
from store import Store
from store import lrs as outbox
from store import xapi as records

log = logging.getLogger(__name__)

#: How far back each queueing pass re-reads: a row can commit a little after the time it
#: records (a slow request, another instance), and the ids make re-reading harmless.
OVERLAP = timedelta(hours=1)
#: The most history one queueing pass takes on (a first run catches up a month a minute).
CATCH_UP_PER_PASS = timedelta(days=31)
#: Statements per POST: small enough for any LRS's request limit, big enough to catch up fast.
BATCH_SIZE = 50
#: Batches one forwarding pass sends at most, so that a pass (and its leases) stays short.
BATCHES_PER_PASS = 20
#: How long a claimed batch is held by the instance sending it (much longer than a send); also
#: how long one instance's turn at finding out whether a failing LRS is back lasts.
LEASE = timedelta(minutes=5)
#: Seconds to wait for the LRS's answer to one request.
TIMEOUT_SECONDS = 20.0
#: The first wait after a failure; each further failure in a row doubles it, up to LONGEST_WAIT.
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
#: The longest Retry-After honoured (a larger one is more likely a mistake than a plan).
LONGEST_RETRY_AFTER = timedelta(days=1)
#: Sent statements are remembered this long (well past OVERLAP, so a re-read finds them).
KEEP_SENT = timedelta(days=7)
#: Answers about Eddy's credentials, and about the address (3xx too): not about a statement.
CREDENTIALS = frozenset({401, 403})
ADDRESS = frozenset({404, 405})
#: Client errors that pass by themselves (the LRS is busy, or the request timed out).
TRANSIENT = frozenset({408, 425, 429})
#: How much of what the LRS said (why it refused a statement, why it failed) is kept and shown.
REASON_LENGTH = 300
#: Rejected statements `lrs status` lists (it counts them all).
LISTED_REJECTED = 20


def actor_of(statement: dict[str, Any]) -> str | None:
    """The user ID a statement is by (None for Eddy's own, such as voiding on erasure)."""
    name = statement.get("actor", {}).get("account", {}).get("name")
    return name if isinstance(name, str) and name != EDDY_ACCOUNT else None


def queue(store: Store, team_id: str, statements: list[dict[str, Any]], at: datetime) -> int:
    """Put statements in the outbox (those already there by id are left alone); how many
    were new."""
    queued: list[outbox.Queued] = [
        (found["id"], actor_of(found), found, datetime.fromisoformat(found["timestamp"]))
        for found in statements
    ]
    with store.session() as session:
        return outbox.enqueue(session, team_id=team_id, statements=queued, at=at)


# --- queueing -------------------------------------------------------------------------------


def queue_new(runtime: Runtime, now: datetime) -> int | None:
    """Scheduled: record new events, then queue the statements recorded since the cursor
    (less the overlap) up to `now`, a day at a time, moving the cursor after each day; how
    many were new, or None when forwarding is off or the workspace's URL is not known yet.

    The first run sends the whole history, from the first statement Eddy recorded: a
    learning team that turns on an LRS wants to see what happened before, and the statements
    are the same ones an export writes. A long history is taken on a month per pass.
    """
    if not runtime.settings.forwards_to_lrs:
        return None
    return queue_recorded(runtime.store, runtime.team_id, now)


def queue_recorded(store: Store, team_id: str, now: datetime) -> int | None:
    """`queue_new` for one workspace of the database, whichever process runs it (the
    scheduler, `app.py lrs retry`)."""
    if record(store, team_id, now) is None:
        return None
    until = now + timedelta(milliseconds=1)  # what this pass recorded, at `now`, included
    with store.session() as session:
        cursor = outbox.queued_until(session, team_id=team_id)
        span = (
            records.record_span(session, team_id=team_id, recorded=True) if cursor is None else None
        )
    if cursor is not None:
        start, end = cursor - OVERLAP, min(until, cursor + CATCH_UP_PER_PASS)
    elif span is not None:
        start, end = span[0], min(until, span[0] + CATCH_UP_PER_PASS)
    else:
        start = end = until  # nothing has happened yet: from now on
    queued = 0
    for window in windows(start, end):
        made = statements_in(store, team_id, window, recorded=True)
        queued += queue(store, team_id, made, now)
        with store.session() as session:
            outbox.advance(session, team_id=team_id, to=window[1])
    if cursor is None:
        with store.session() as session:
            outbox.advance(session, team_id=team_id, to=end)
    return queued


# --- talking to the LRS ---------------------------------------------------------------------


class Trouble(StrEnum):
    """What an answer that is about no statement says is wrong (every statement waits)."""

    CREDENTIALS = "credentials"
    ADDRESS = "address"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Answer:
    """What the LRS said to one request: its HTTP status (None when it did not answer at
    all: refused, timed out, dropped), its text, and how long it asked us to wait."""

    status: int | None
    text: str
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refuses_a_statement(self) -> bool:
        """A client error about what was sent rather than about the endpoint, the credentials
        or the moment (409 is the LRS knowing an id: the PUT path tells what it means)."""
        return (
            self.status is not None
            and 400 <= self.status < 500
            and self.status != 409
            and self.status not in CREDENTIALS | ADDRESS | TRANSIENT
        )

    @property
    def trouble(self) -> Trouble:
        """What is wrong, for an answer that is neither a success nor about a statement."""
        if self.status in CREDENTIALS:
            return Trouble.CREDENTIALS
        if self.status in ADDRESS or (self.status is not None and 300 <= self.status < 400):
            return Trouble.ADDRESS
        return Trouble.UNAVAILABLE

    def describe(self) -> str:
        """What the LRS said, short and readable: the messages of its error (see `_said`), never
        a statement it may quote back (which names a person)."""
        said = _said(self.text)
        if len(said) > REASON_LENGTH:
            said = said[: REASON_LENGTH - 1].rstrip() + "…"
        if self.status is None:
            return f"no answer ({said})"
        return f"HTTP {self.status}" + (f": {said}" if said else "")


def _said(text: str) -> str:
    """The messages in an LRS's error body: FastAPI's validation errors, as Ralph answers
    (`{"detail": [{"loc": ["body", 0, "verb"], "msg": "Field required", "input": …}]}`, read
    `verb: Field required`), or an `error`, `message` or `detail` text; else the text itself
    when it is not JSON (a proxy's page, say)."""
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    return _messages(body)


def _messages(body: Any, depth: int = 0) -> str:
    if isinstance(body, str):
        return " ".join(body.split())
    if depth > 3:
        return ""
    if isinstance(body, list):
        found = [said for said in (_messages(part, depth + 1) for part in body) if said]
        more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
        return "; ".join(found[:3]) + more
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("msg"), str):
        where = body.get("loc")
        path = (
            ".".join(str(part) for part in where if part != "body" and not isinstance(part, int))
            if isinstance(where, list)
            else ""
        )
        return f"{path}: {body['msg']}" if path else body["msg"]
    for key in ("detail", "message", "error", "errors", "reason"):
        if key in body:
            said = _messages(body[key], depth + 1)
            if said:
                return said
    return ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn a POST into a GET whose 200 looks like success: it is reported
    as what it is instead (EDDY_LRS_URL should name the final address)."""

    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


def retry_after(value: str | None, answered_at: str | None = None) -> timedelta | None:
    """A Retry-After header's wait: seconds, or an HTTP date counted from the answer's own
    `Date` header (so neither clock's skew matters, and Eddy reads no clock of its own); None
    when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return timedelta(seconds=int(value))
    when, answered = _http_date(value), _http_date(answered_at)
    if when is None or answered is None:
        return None
    return max(when - answered, timedelta())


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def endpoint_of(url: str) -> str:
    """EDDY_LRS_URL as the LRS's backoff knows it: without credentials the URL may carry (they
    belong in no table), so that another address starts with a clean slate."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))[:500]


class LrsClient:
    """The LRS's Statement Resource, over the standard library's HTTP client."""

    def __init__(
        self, endpoint: str, *, username: str = "", password: str = "", timeout: float
    ) -> None:
        self.statements_url = endpoint.rstrip("/") + "/statements"
        self.endpoint = endpoint_of(endpoint)
        self.host = urlsplit(endpoint).netloc.rpartition("@")[2]
        self.timeout = timeout
        self.headers = {
            "X-Experience-API-Version": VERSION,
            "Content-Type": "application/json",
        }
        if username or password:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {pair}"
        self._opener = urllib.request.build_opener(_NoRedirects)

    @classmethod
    def from_settings(cls, settings: Settings) -> LrsClient:
        return cls(
            settings.eddy_lrs_url,
            username=settings.eddy_lrs_username,
            password=settings.eddy_lrs_password.get_secret_value(),
            timeout=TIMEOUT_SECONDS,
        )

    def post(self, statements: list[dict[str, Any]]) -> Answer:
        """Store a batch (an LRS stores all of it or none)."""
        return self._request("POST", self.statements_url, statements)

    def put(self, statement: dict[str, Any]) -> Answer:
        """Store one statement by its id: idempotent (204 stored; 409, or 204 again, when the
        LRS already has that id)."""
        return self._request("PUT", self._by_id(statement["id"]), statement)

    def get(self, statement_id: str) -> Answer:
        """The statement the LRS holds under an id."""
        return self._request("GET", self._by_id(statement_id), None)

    def _by_id(self, statement_id: str) -> str:
        return f"{self.statements_url}?statementId={quote(statement_id, safe='')}"

    def _request(self, method: str, url: str, body: Any) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=self.headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            if 300 <= error.code < 400:
                text = f"redirected to {error.headers.get('Location', '?')}"
            return Answer(
                error.code,
                text,
                retry_after(error.headers.get("Retry-After"), error.headers.get("Date")),
            )
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            return Answer(None, str(reason) or type(reason).__name__)


# --- comparing statements -------------------------------------------------------------------

#: What an LRS sets on a statement it stores (xAPI 1.0.3, part 2, 2.3.1), which is no difference.
SET_BY_THE_LRS = ("stored", "authority", "version")


def held_statement(answer: Answer, statement_id: str) -> dict[str, Any] | None:
    """The statement in the LRS's answer to a GET by id: the statement itself, as xAPI says,
    or inside a `{"statements": [...]}` result, as Ralph answers; None when there is none."""
    try:
        body = json.loads(answer.text)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("statements"), list):
        body = next((found for found in body["statements"] if _same_id(found, statement_id)), None)
    return body if _same_id(body, statement_id) else None


def _same_id(found: Any, statement_id: str) -> bool:
    return isinstance(found, dict) and str(found.get("id", "")).lower() == statement_id.lower()


def difference(ours: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    """Where the statement an LRS holds differs from ours (a dotted path, such as
    `result.success`), or None when it is the same statement.

    What an LRS may add or write its own way is no difference: `stored`, `authority` and
    `version`; how a timestamp is written (its offset, its precision beyond milliseconds),
    since only the instant counts; the order of keys; the case of UUIDs; the `objectType` that
    xAPI lets go unsaid (an Agent actor, an Activity object); a context activity given alone
    instead of in a list. Everything else counts, stricter than xAPI's own comparison (which
    also lets an LRS change activity definitions and verb displays): a false "different" costs
    an operator a look, a false "the same" would lose a learning record without a word."""
    mine, held = _comparable(ours), _comparable(theirs)
    if "timestamp" not in mine:
        held.pop("timestamp", None)  # the LRS sets one when a statement comes without
    return _difference(mine, held, "")


def _comparable(statement: dict[str, Any]) -> dict[str, Any]:
    found = {k: v for k, v in statement.items() if k not in SET_BY_THE_LRS}
    if "id" in found:
        found["id"] = str(found["id"]).lower()
    if "timestamp" in found:
        found["timestamp"] = _instant(found["timestamp"])
    if isinstance(found.get("actor"), dict):
        found["actor"] = {"objectType": "Agent", **found["actor"]}
    target = found.get("object")
    if isinstance(target, dict):
        target = {"objectType": "Activity", **target}
        if target["objectType"] == "StatementRef" and "id" in target:
            target["id"] = str(target["id"]).lower()
        found["object"] = target
    context = found.get("context")
    if isinstance(context, dict):
        context = dict(context)
        if "registration" in context:
            context["registration"] = str(context["registration"]).lower()
        activities = context.get("contextActivities")
        if isinstance(activities, dict):
            context["contextActivities"] = {
                kind: [
                    {"objectType": "Activity", **one} if isinstance(one, dict) else one
                    for one in (listed if isinstance(listed, list) else [listed])
                ]
                for kind, listed in activities.items()
            }
        found["context"] = context
    return found


def _instant(value: Any) -> Any:
    """A timestamp as the instant it names, to the millisecond (unreadable: as written)."""
    if not isinstance(value, str):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        return value
    when = when.astimezone(UTC)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _difference(ours: Any, theirs: Any, path: str) -> str | None:
    here = path or "the whole statement"
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(ours.keys() | theirs.keys()):
            inner = f"{path}.{key}" if path else key
            if key not in ours or key not in theirs:
                return inner
            found = _difference(ours[key], theirs[key], inner)
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return here
        for position, (mine, held) in enumerate(zip(ours, theirs, strict=True)):
            found = _difference(mine, held, f"{path}[{position}]")
            if found:
                return found
        return None
    if isinstance(ours, bool) or isinstance(theirs, bool):  # JSON's true is not 1
        return None if type(ours) is type(theirs) and ours == theirs else here
    return None if ours == theirs else here


# --- forwarding -----------------------------------------------------------------------------


@dataclass
class ForwardReport:
    """One forwarding pass: statements the LRS took (`already_there` of them it had), refused
    for good, and left waiting because it failed; when it failed (`failure`), or when the pass
    left it alone because of an earlier failure, how many failures in a row and the next try."""

    sent: int = 0
    already_there: int = 0
    rejected: int = 0
    retrying: int = 0
    failure: Answer | None = None
    failures: int = 0
    next_try: datetime | None = None
    #: True when the pass sent nothing because the LRS's backoff was not over.
    held_back: bool = False

    def __str__(self) -> str:
        if self.held_back:
            return (
                f"waiting for the LRS ({plural(self.failures, 'failure')} in a row): next try at "
                f"{_iso(self.next_try)}"
            )
        return (
            f"{self.sent} sent ({self.already_there} already there), {self.rejected} rejected, "
            f"{self.retrying} to retry"
        )


@dataclass
class _Outcome:
    """What became of one claimed batch; `failure` is the answer that stopped it, and
    `unsent` the statements it left pending."""

    sent: list[str] = field(default_factory=list)
    already_there: int = 0
    #: statement id → why the LRS will not take it
    rejected: dict[str, str] = field(default_factory=dict)
    unsent: list[outbox.LrsOutbox] = field(default_factory=list)
    failure: Answer | None = None


def forward(runtime: Runtime, now: datetime) -> ForwardReport | None:
    """Scheduled: send due statements to the LRS, a batch at a time, until none is due, the
    pass has sent its share, or the LRS fails (then everything waits: see the module's
    docstring); nothing while the LRS's backoff lasts. None when forwarding is off."""
    if not runtime.settings.forwards_to_lrs:
        return None
    client = LrsClient.from_settings(runtime.settings)
    return _forward(runtime.store, client, now, batches=BATCHES_PER_PASS, now_or_never=False)


@dataclass
class RetryReport:
    """`app.py lrs retry`: what the passes did, statements of new events and statements the
    LRS refused that were queued first, and how many still wait."""

    forwarded: ForwardReport
    requeued: int
    waiting: int
    queued: int = 0


def send_now(store: Store, settings: Settings, now: datetime, *, rejected: bool) -> RetryReport:
    """For an operator who fixed what made the LRS fail (Eddy's credentials, EDDY_LRS_URL) or
    knows it is back: send everything that waits at once, whatever the backoff, until nothing
    is due or the LRS fails again. Events not queued yet are queued first (as the scheduler
    would within a minute). With `rejected`, the statements it refused for good are queued
    again first (once what made it refuse them is fixed: its configuration, say)."""
    queued = sum(queue_recorded(store, team, now) or 0 for team in known_workspaces(store))
    requeued = 0
    if rejected:
        with store.session() as session:
            requeued = outbox.requeue_rejected(session, at=now)
    forwarded = _forward(store, LrsClient.from_settings(settings), now, now_or_never=True)
    with store.session() as session:
        waiting = outbox.counts(session).get(outbox.PENDING, 0)
    return RetryReport(forwarded=forwarded, requeued=requeued, waiting=waiting, queued=queued)


def _forward(
    store: Store,
    client: LrsClient,
    now: datetime,
    *,
    now_or_never: bool,
    batches: int | None = None,
) -> ForwardReport:
    """Batches until none is due, `batches` were sent, or the LRS fails; first the LRS's
    backoff has its say, unless `now_or_never` (an operator asked)."""
    report = ForwardReport()
    lease_until = now + LEASE
    with store.session() as session:
        state = outbox.backoff(session, endpoint=client.endpoint)
        if state is not None:
            if now_or_never:
                outbox.force_turn(session, endpoint=client.endpoint, lease_until=lease_until)
            elif not outbox.take_turn(
                session, endpoint=client.endpoint, now=now, lease_until=lease_until
            ):
                report.held_back, report.failures = True, state.failures
                report.next_try = max(state.next_try_at, state.probe_until or state.next_try_at)
                return report
    sent_batches = 0
    while batches is None or sent_batches < batches:
        with store.session() as session:
            batch = outbox.claim(session, now=now, lease_until=lease_until, limit=BATCH_SIZE)
        if not batch:
            break
        sent_batches += 1
        outcome = _send(client, batch)
        _record(store, client, outcome, now, report)
        if outcome.failure is not None:
            if not now_or_never:  # an operator who asked is told, by `explain`
                _log_failure(client, outcome.failure, report)
            break
    if state is not None and not sent_batches:
        with store.session() as session:  # nothing to find out with: the next pass may
            outbox.end_turn(session, endpoint=client.endpoint)
    return report


def _send(client: LrsClient, batch: list[outbox.LrsOutbox]) -> _Outcome:
    answer = client.post([row.statement for row in batch])
    if answer.ok:
        return _Outcome(sent=[row.statement_id for row in batch])
    if answer.status == 409 or answer.refuses_a_statement:
        return _send_one_by_one(client, batch)
    return _Outcome(unsent=batch, failure=answer)


def _send_one_by_one(client: LrsClient, batch: list[outbox.LrsOutbox]) -> _Outcome:
    """PUT each statement by its id: what the LRS takes, or holds the same already, is sent;
    what it refuses, or holds differently, is rejected; the first failure leaves the rest for
    later."""
    outcome = _Outcome()
    for position, row in enumerate(batch):
        answer = client.put(row.statement)
        if answer.status == 409:
            held = client.get(row.statement_id)
            if held.status is None:  # gone between the two requests: it is away
                answer = held
            else:
                why = _not_the_same(row, held)
                if why is None:
                    log.info(
                        "The LRS already had statement %s, the same (most likely from a batch "
                        "whose answer was lost): counted as sent",
                        row.statement_id,
                    )
                    outcome.sent.append(row.statement_id)
                    outcome.already_there += 1
                else:
                    _log_rejected(row, why)
                    outcome.rejected[row.statement_id] = why
                continue
        if answer.ok:
            outcome.sent.append(row.statement_id)
        elif answer.refuses_a_statement:
            why = answer.describe()
            _log_rejected(row, why)
            outcome.rejected[row.statement_id] = why
        else:
            outcome.unsent, outcome.failure = batch[position:], answer
            break
    return outcome


def _not_the_same(row: outbox.LrsOutbox, answer: Answer) -> str | None:
    """Why a statement whose id the LRS knows is not there as Eddy made it (None: it is)."""
    held = held_statement(answer, row.statement_id) if answer.ok else None
    if held is None:
        shown = "what it showed is no statement" if answer.ok else answer.describe()
        return (
            "the LRS already holds a statement under this id, and Eddy could not compare it "
            f"with its own ({shown})"
        )
    where = difference(row.statement, held)
    if where is None:
        return None
    return f"the LRS already holds a different statement under this id (they differ at {where})"


def _verb(statement: dict[str, Any]) -> str:
    verb = statement.get("verb")
    found = verb.get("id") if isinstance(verb, dict) else None
    return found if isinstance(found, str) else "no verb"


def _log_rejected(row: outbox.LrsOutbox, why: str) -> None:
    log.error(
        "The LRS will not take statement %s (%s): %s. It is set aside as rejected and the "
        "others go on; `app.py lrs status` lists it, `app.py lrs retry --rejected` sends it "
        "again",
        row.statement_id,
        _verb(row.statement),
        why,
    )


def wait_after(answer: Answer, failures: int) -> timedelta:
    """How long to leave the LRS alone after `answer`, its `failures`-th failure in a row:
    what it asked for, else 30 s doubling per failure up to an hour, less up to a fifth at
    random (so that instances and deployments do not all come back at the same second)."""
    if answer.retry_after is not None:
        return min(answer.retry_after, LONGEST_RETRY_AFTER)
    doubled = FIRST_WAIT * 2 ** min(max(failures - 1, 0), 16)
    return min(doubled, LONGEST_WAIT) * random.uniform(0.8, 1.0)


def _record(
    store: Store, client: LrsClient, outcome: _Outcome, now: datetime, report: ForwardReport
) -> None:
    failure = outcome.failure
    with store.session() as session:
        if outcome.sent:
            outbox.mark_sent(session, ids=outcome.sent, at=now)
        for statement_id, why in outcome.rejected.items():
            outbox.reject(session, ids=[statement_id], error=why)
        if failure is None:
            outbox.record_success(session, endpoint=client.endpoint)
        else:
            ids = [row.statement_id for row in outcome.unsent]
            outbox.retry_later(session, ids=ids, at=now, error=failure.describe())
            state = outbox.record_failure(
                session,
                endpoint=client.endpoint,
                now=now,
                error=failure.describe(),
                wait=lambda failures: wait_after(failure, failures),
            )
            report.failure, report.failures, report.next_try = (
                failure,
                state.failures,
                state.next_try_at,
            )
            report.retrying = outbox.counts(session).get(outbox.PENDING, 0)
    report.sent += len(outcome.sent)
    report.already_there += outcome.already_there
    report.rejected += len(outcome.rejected)


def explain(answer: Answer, host: str) -> str:
    """What an answer about no statement means for the operator, in one sentence."""
    said = answer.describe()
    if answer.trouble is Trouble.CREDENTIALS:
        return (
            f"The LRS at {host} refused Eddy's credentials ({said}): check EDDY_LRS_USERNAME "
            "and EDDY_LRS_PASSWORD, and that the key may write statements."
        )
    if answer.trouble is Trouble.ADDRESS:
        return (
            f"The LRS at {host} answered {said}: check EDDY_LRS_URL, which names its xAPI "
            "endpoint (the address before /statements)."
        )
    return (
        f"The LRS at {host} is unavailable ({said}): Eddy tries again later, less often the "
        "longer it fails."
    )


def _log_failure(client: LrsClient, failure: Answer, report: ForwardReport) -> None:
    """Once per pass (a pass stops at its first failure): an error when the setup is wrong,
    a warning when the LRS is away or busy."""
    level = logging.WARNING if failure.trouble is Trouble.UNAVAILABLE else logging.ERROR
    log.log(
        level,
        "%s %s %s; %s in a row, next try at %s.",
        explain(failure, client.host),
        plural(report.retrying, "statement"),
        "waits" if report.retrying == 1 else "wait",
        plural(report.failures, "failure"),
        _iso(report.next_try),
    )


# --- housekeeping and status ----------------------------------------------------------------


def forget_sent(runtime: Runtime, now: datetime) -> int | None:
    """Scheduled: drop statements sent long enough ago that no queueing pass re-reads them;
    None when forwarding is off."""
    if not runtime.settings.forwards_to_lrs:
        return None
    with runtime.store.session() as session:
        return outbox.forget_sent(session, before=now - KEEP_SENT)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def status(store: Store, settings: Settings) -> dict[str, Any]:
    """For operators: statements by state, the oldest still waiting, how far each workspace's
    events are queued, the LRS's backoff (None: it answered the last attempt, or forwarding is
    off) and the statements it refused, with its reasons."""
    endpoint = endpoint_of(settings.eddy_lrs_url) if settings.forwards_to_lrs else None
    with store.session() as session:
        by_status = outbox.counts(session)
        oldest = outbox.oldest_pending(session)
        cursors = outbox.cursors(session)
        state = outbox.backoff(session, endpoint=endpoint) if endpoint else None
        refused = outbox.rejected(session, limit=LISTED_REJECTED)
        return {
            "pending": by_status.get(outbox.PENDING, 0),
            "sent": by_status.get(outbox.SENT, 0),
            "rejected": by_status.get(outbox.REJECTED, 0),
            "oldest_pending": _iso(oldest),
            "queued_until": {team: _iso(at) for team, at in cursors.items()},
            "backoff": None
            if state is None
            else {
                "failures": state.failures,
                "failing_since": _iso(state.failing_since),
                "next_try": _iso(state.next_try_at),
                "last_error": state.last_error,
            },
            "rejected_statements": [
                {
                    "statement_id": row.statement_id,
                    "verb": _verb(row.statement),
                    "happened_at": _iso(row.happened_at),
                    "reason": row.last_error,
                }
                for row in refused
            ],
        }
