"""Forwarding learning records to a Learning Record Store (EDDY_LRS_URL), through the outbox.

Statements are queued in the database (store/lrs.py) before anything is sent, and leave the
outbox only when the LRS has them: an LRS outage, a crash or a restart loses nothing, and the
stable statement ids (bot/xapi.py) mean nothing is stored twice.

Two scheduled jobs do the work, on every instance at once, deciding against the database:

- `queue_new` records new events in the ledger (bot/xapi.py), then re-reads the statements
  recorded since the workspace's cursor (less an overlap, because a row can commit a little
  after its timestamp) and queues them; an id already in the outbox is skipped by its primary
  key.
- `forward` claims the oldest due statements in batches (a lease keeps other instances off
  them) and POSTs each batch to `<EDDY_LRS_URL>statements`. What the LRS answers decides:

  | answer                  | what happens                                                |
  |-------------------------|-------------------------------------------------------------|
  | 2xx                     | sent                                                        |
  | 409 Conflict            | it has some already (a batch whose answer was lost): each   |
  |                         | is PUT by id, and 204 or 409 both mean the LRS has it       |
  | 400, 413                | each is PUT by id, to find the ones it refuses: those are   |
  |                         | `rejected` with its message, the others sent                |
  | 401, 403, other 4xx     | wait and retry (the setup is wrong: logged as an error)     |
  | 408, 429, 5xx, none     | wait and retry (Retry-After when given)                     |

Waiting is a row's `next_attempt_at`, doubling from 30 seconds up to an hour with a little
jitter, so a retry survives a restart and is shared by every instance; the pass stops at the
first failure and holds back every pending statement with it (the LRS is likely down: one
batch finds out when it is back, instead of each batch asking in turn).

Nothing is sent twice for long: the lease expires only if an instance dies mid-send, and
whoever sends the batch again then meets the LRS's own check of the ids (xAPI: an LRS never
stores a statement id twice), which the 409 path turns into `sent`.
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
from typing import Any
from urllib.parse import quote, urlsplit

from bot.runtime import Runtime
from bot.settings import Settings
from bot.xapi import EDDY_ACCOUNT, VERSION, record, statements_in, windows
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
#: How long a claimed batch is held by the instance sending it (much longer than a send).
LEASE = timedelta(minutes=5)
#: Seconds to wait for the LRS's answer to one request.
TIMEOUT_SECONDS = 20.0
#: The first wait after a failure; each further attempt doubles it, up to LONGEST_WAIT.
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
#: The longest Retry-After honoured (a larger one is more likely a mistake than a plan).
LONGEST_RETRY_AFTER = timedelta(days=1)
#: Sent statements are remembered this long (well past OVERLAP, so a re-read finds them).
KEEP_SENT = timedelta(days=7)
#: Refusals for good: the statement itself is wrong for this LRS (a PUT of one statement).
REFUSED = frozenset({400, 413})
#: Client errors that pass by themselves (the rest of 4xx mean the setup is wrong).
TRANSIENT = frozenset({408, 425, 429})


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
    team_id = runtime.team_id
    if record(runtime.store, team_id, now) is None:
        return None
    until = now + timedelta(milliseconds=1)  # what this pass recorded, at `now`, included
    with runtime.store.session() as session:
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
        made = statements_in(runtime.store, team_id, window, recorded=True)
        queued += queue(runtime.store, team_id, made, now)
        with runtime.store.session() as session:
            outbox.advance(session, team_id=team_id, to=window[1])
    if cursor is None:
        with runtime.store.session() as session:
            outbox.advance(session, team_id=team_id, to=end)
    return queued


# --- talking to the LRS ---------------------------------------------------------------------


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

    def describe(self) -> str:
        said = " ".join(self.text.split())[:300]
        if self.status is None:
            return f"no answer ({said})"
        return f"HTTP {self.status}" + (f": {said}" if said else "")


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


class LrsClient:
    """The LRS's Statement Resource, over the standard library's HTTP client."""

    def __init__(
        self, endpoint: str, *, username: str = "", password: str = "", timeout: float
    ) -> None:
        self.statements_url = endpoint.rstrip("/") + "/statements"
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
        """Store one statement by its id: idempotent (204 stored, 409 already there)."""
        url = f"{self.statements_url}?statementId={quote(statement['id'], safe='')}"
        return self._request("PUT", url, statement)

    def _request(self, method: str, url: str, body: Any) -> Answer:
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=self.headers, method=method
        )
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


# --- forwarding -----------------------------------------------------------------------------


@dataclass
class ForwardReport:
    """One forwarding pass: statements the LRS took (`already_there` of them it had), refused
    for good, and put back to try later."""

    sent: int = 0
    already_there: int = 0
    rejected: int = 0
    retrying: int = 0

    def __str__(self) -> str:
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
    #: statement id → what the LRS said
    rejected: dict[str, str] = field(default_factory=dict)
    unsent: list[outbox.LrsOutbox] = field(default_factory=list)
    failure: Answer | None = None


def forward(runtime: Runtime, now: datetime) -> ForwardReport | None:
    """Scheduled: send due statements to the LRS, a batch at a time, until none is due, the
    pass has sent its share, or the LRS fails (then everything waits: see the module's
    docstring); None when forwarding is off."""
    if not runtime.settings.forwards_to_lrs:
        return None
    client = LrsClient.from_settings(runtime.settings)
    report = ForwardReport()
    for _ in range(BATCHES_PER_PASS):
        with runtime.store.session() as session:
            batch = outbox.claim(session, now=now, lease_until=now + LEASE, limit=BATCH_SIZE)
        if not batch:
            break
        outcome = _send(client, batch)
        _record(runtime.store, outcome, now, report)
        if outcome.failure is not None:
            _log_failure(client, outcome.failure, report.retrying)
            break
    return report


def _send(client: LrsClient, batch: list[outbox.LrsOutbox]) -> _Outcome:
    answer = client.post([row.statement for row in batch])
    if answer.ok:
        return _Outcome(sent=[row.statement_id for row in batch])
    if answer.status == 409 or answer.status in REFUSED:
        return _send_one_by_one(client, batch)
    return _Outcome(unsent=batch, failure=answer)


def _send_one_by_one(client: LrsClient, batch: list[outbox.LrsOutbox]) -> _Outcome:
    """PUT each statement by its id: what the LRS already has counts as sent, what it refuses
    is rejected, and the first failure leaves the rest for later."""
    outcome = _Outcome()
    for position, row in enumerate(batch):
        answer = client.put(row.statement)
        if answer.ok:
            outcome.sent.append(row.statement_id)
        elif answer.status == 409:
            log.warning(
                "The LRS already had statement %s (most likely from a batch whose answer was "
                "lost); counted as sent",
                row.statement_id,
            )
            outcome.sent.append(row.statement_id)
            outcome.already_there += 1
        elif answer.status in REFUSED:
            log.error(
                "The LRS refused statement %s (%s) for good: %s",
                row.statement_id,
                row.statement.get("verb", {}).get("id", "?"),
                answer.describe(),
            )
            outcome.rejected[row.statement_id] = answer.describe()
        else:
            outcome.unsent, outcome.failure = batch[position:], answer
            break
    return outcome


def wait_after(answer: Answer, attempts: int) -> timedelta:
    """How long to leave the LRS alone after `answer` on the `attempts`-th try: what it asked
    for, else 30 s doubling per attempt up to an hour, less up to a fifth at random (so that
    instances and workspaces do not all come back at the same second)."""
    if answer.retry_after is not None:
        return min(answer.retry_after, LONGEST_RETRY_AFTER)
    doubled = FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 16)
    return min(doubled, LONGEST_WAIT) * random.uniform(0.8, 1.0)


def _record(store: Store, outcome: _Outcome, now: datetime, report: ForwardReport) -> None:
    with store.session() as session:
        if outcome.sent:
            outbox.mark_sent(session, ids=outcome.sent, at=now)
        for statement_id, error in outcome.rejected.items():
            outbox.reject(session, ids=[statement_id], error=error)
        if outcome.failure is not None and outcome.unsent:
            attempts = max(row.attempts for row in outcome.unsent)  # this one included
            until = now + wait_after(outcome.failure, attempts)
            ids = [row.statement_id for row in outcome.unsent]
            outbox.retry_later(session, ids=ids, at=until, error=outcome.failure.describe())
            held_back = outbox.postpone_due(session, until=until)
            report.retrying += len(ids) + held_back
    report.sent += len(outcome.sent)
    report.already_there += outcome.already_there
    report.rejected += len(outcome.rejected)


def _log_failure(client: LrsClient, answer: Answer, waiting: int) -> None:
    """Once per pass (a pass stops at its first failure): an error when the setup is wrong,
    a warning when the LRS is away or busy."""
    said = answer.describe()
    if answer.status in (401, 403):
        log.error(
            "The LRS at %s refused Eddy's credentials (%s): check EDDY_LRS_USERNAME and "
            "EDDY_LRS_PASSWORD; %d statement(s) wait",
            client.host,
            said,
            waiting,
        )
    elif answer.status is not None and answer.status < 500 and answer.status not in TRANSIENT:
        log.error(
            "The LRS at %s answered %s: check EDDY_LRS_URL (its xAPI endpoint, which ends "
            "before /statements); %d statement(s) wait",
            client.host,
            said,
            waiting,
        )
    else:
        log.warning(
            "The LRS at %s is unavailable (%s); %d statement(s) wait and will be retried",
            client.host,
            said,
            waiting,
        )


# --- housekeeping and status ----------------------------------------------------------------


def forget_sent(runtime: Runtime, now: datetime) -> int | None:
    """Scheduled: drop statements sent long enough ago that no queueing pass re-reads them;
    None when forwarding is off."""
    if not runtime.settings.forwards_to_lrs:
        return None
    with runtime.store.session() as session:
        return outbox.forget_sent(session, before=now - KEEP_SENT)


def retry_rejected(store: Store, now: datetime) -> int:
    """Send the statements the LRS refused again (after fixing what made it refuse them);
    how many."""
    with store.session() as session:
        return outbox.requeue_rejected(session, at=now)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def status(store: Store) -> dict[str, Any]:
    """For operators: statements by state, the oldest still waiting, when the next attempt
    is due, how far each workspace's events are queued, and the latest errors."""
    with store.session() as session:
        by_status = outbox.counts(session)
        oldest, due = outbox.waiting(session)
        cursors = outbox.cursors(session)
        failed = outbox.last_errors(session)
        return {
            "pending": by_status.get(outbox.PENDING, 0),
            "sent": by_status.get(outbox.SENT, 0),
            "rejected": by_status.get(outbox.REJECTED, 0),
            "oldest_pending": _iso(oldest),
            "next_attempt": _iso(due),
            "queued_until": {team: _iso(at) for team, at in cursors.items()},
            "errors": [
                {
                    "statement_id": row.statement_id,
                    "status": row.status,
                    "attempts": row.attempts,
                    "error": row.last_error,
                }
                for row in failed
            ],
        }
