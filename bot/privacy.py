"""A person's data rights: everything Eddy keeps about them as one JSON document, and being
forgotten.

- `export_person` gathers what every table keeps about one person (store/privacy.py finds
  the rows), sorted into sections a person can read, with their learning events as xAPI
  statements: `app.py export user <USER_ID>` writes it, `/learn me export` DMs it to them.
- `forget_person` erases or anonymises it everywhere (`app.py forget user <USER_ID>`): the
  aggregate figures and the knowledge index stay as they were, and what they wrote as
  knowledge stays, by "former member". If learning records may have reached a Learning
  Record Store, Eddy queues a voiding statement for each one first (an LRS keeps statements
  for good; voiding is how xAPI takes one back), so that the LRS and Eddy forget together.

    document = export_person(store, team_id, "U0SAM0002", now=now)
    forgotten = forget_person(store, team_id, "U0SAM0002", now=now)
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import lrs, xapi
from bot.people import FORMER_MEMBER, FORMER_MEMBER_PREFIX, PSEUDONYM_BYTES, is_former_member
from bot.settings import USER_ID
from store import Store
from store import lrs as outbox
from store import privacy as rows
from store import xapi as records

if TYPE_CHECKING:
    from bot.runtime import Runtime

#: Bumped when the document's shape changes, so that whoever reads old exports can tell.
EXPORT_FORMAT = 1
#: `/learn me export` answers a person once per this long. An export reads their whole
#: history and uploads a file to Slack: a double tap, or an impatient repeat, should not do
#: that twice. Kept in each instance's memory: a repeat that reaches another instance costs
#: one more export, which is harmless.
EXPORT_EVERY = timedelta(minutes=5)

#: The document's sections: what each holds, and the tables it comes from.
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "questions": (
        "What you asked Eddy, what it found, and the wordings it learned from your feedback.",
        ("question_log", "learned_question"),
    ),
    "routed_questions": (
        "Questions sent to the experts that you asked, claimed or answered, their timelines, "
        "and the questions Eddy sent to you as an expert.",
        ("routed_question", "routed_step", "routed_post"),
    ),
    "knowledge": (
        "Knowledge entries you keep, entries you proposed or reviewed, and entries you "
        "confirmed are still true.",
        ("knowledge_entry", "entry_draft", "entry_review"),
    ),
    "lessons": (
        "Your lesson schedule and streak, the paths you follow, the lessons sent to you, "
        "lessons done, paths completed, your review deck, and channel schedules you set up.",
        (
            "learner",
            "lesson_subscription",
            "lesson_delivery",
            "lesson_done",
            "path_completion",
            "review_card",
            "lesson_schedule",
        ),
    ),
    "quiz_results": ("Every quiz you answered, and whether it was right.", ("quiz_answer",)),
    "points": (
        "Your points by emoji, every point given to you or by you, your reactions, and how "
        "much of your daily budget you spent.",
        ("point_total", "point_ledger", "reaction_state", "giving_day"),
    ),
    "badges": ("The badges you earned.", ("badge_award",)),
    "expertise": (
        "The subject-matter networks you are an expert in (or added people to), and whether "
        "you are away.",
        ("network_member", "expert_away"),
    ),
    "home": ("What your Home tab last showed.", ("home_state",)),
    "learning_record_outbox": (
        "Learning records about you waiting to be sent to the Learning Record Store.",
        ("lrs_outbox",),
    ),
    "learning_record_ids": (
        "The identifiers that tie your learning records on each path together.",
        ("record_identity",),
    ),
}
LEARNING_RECORDS = (
    "Your learning events as xAPI 1.0.3 statements, as a Learning Record Store would hold them."
)
MENTIONS = (
    "Rows that are someone else's (their question, a content file) but whose words name you, "
    "counted by table: their words are theirs, so they are not copied here. Forgetting you "
    "replaces your name there with “former member”."
)


def new_pseudonym() -> str:
    """A user ID that names nobody: fresh for each erasure, and never written down beside the
    ID it replaces."""
    return FORMER_MEMBER_PREFIX + secrets.token_hex(PSEUDONYM_BYTES)


def looks_like_user_id(text: str) -> bool:
    """A Slack user (or Enterprise Grid) ID such as U012ABCDEF, and not a former member."""
    return bool(USER_ID.match(text)) and not is_former_member(text)


def workspaces(store: Store) -> list[str]:
    """Every workspace with data in this database (team IDs)."""
    with store.session() as session:
        return rows.teams(session)


# --- export -----------------------------------------------------------------------------------


def learning_records(
    store: Store, team_id: str, user_id: str, *, now: datetime
) -> list[dict[str, Any]]:
    """Every xAPI statement that names the person (as actor, as the one a reaction's points
    went to, or in someone's words), oldest first, with events not recorded yet recorded
    first; none when Eddy never learnt the workspace's address, which names the actors."""
    if xapi.record(store, team_id, now) is None:
        return []
    return xapi.statements_naming(store, team_id, user_id)


def export_person(store: Store, team_id: str, user_id: str, *, now: datetime) -> dict[str, Any]:
    """Everything Eddy keeps about the person, JSON-ready: a header that says what this is,
    then each section of `SECTIONS` (table → rows), their xAPI statements, and a count of
    the rows of others whose words name them."""
    statements = learning_records(store, team_id, user_id, now=now)
    with store.session() as session:
        found = rows.person_rows(session, team_id=team_id, user_id=user_id)
        named_by_others = rows.mentions(session, team_id=team_id, user_id=user_id)
    found.pop("learning_record", None)  # the statements themselves, below
    sections: dict[str, Any] = {}
    for name, (_, tables) in SECTIONS.items():
        sections[name] = {table: found.pop(table) for table in tables if table in found}
    if found:  # a table no section lists yet still goes out, under its own name
        sections["other"] = found
    return {
        "export": {
            "about": (
                "Everything Eddy, the learning app in Slack, keeps about one person, table by "
                "table. Times are UTC (ISO-8601)."
            ),
            "user_id": user_id,
            "workspace": team_id,
            "generated_at": now.astimezone(UTC).isoformat(),
            "format": EXPORT_FORMAT,
            "sections": {
                **{name: what for name, (what, _) in SECTIONS.items()},
                "learning_records": LEARNING_RECORDS,
                "mentioned_by_others": MENTIONS,
            },
        },
        **sections,
        "learning_records": statements,
        "mentioned_by_others": named_by_others,
    }


def rows_in(document: dict[str, Any]) -> int:
    """How many rows the document's sections hold."""
    sections = [*SECTIONS, "other"]
    return sum(len(found) for name in sections for found in document.get(name, {}).values())


def as_json(document: dict[str, Any]) -> str:
    """The document as readable JSON (indented; names and text as written, not escaped)."""
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"


def export_filename(user_id: str, now: datetime) -> str:
    return f"eddy-data-{user_id}-{now.astimezone(UTC):%Y-%m-%d}.json"


@dataclass(frozen=True)
class ExportTurn:
    """A person's latest export from Slack: when they asked, when the file reached their DM
    (None while it is still being gathered and sent), and when they may ask again; so a
    repeat request is told what really happened to the last one."""

    asked_at: datetime
    sent_at: datetime | None = None

    @property
    def again_at(self) -> datetime:
        return self.asked_at + EXPORT_EVERY


def claim_export(runtime: Runtime, user_id: str, now: datetime) -> ExportTurn | None:
    """Take the person's turn for an export from Slack: None when it is theirs now, else
    their latest turn, which says whether it is still on its way or already arrived and when
    they may ask again (see EXPORT_EVERY)."""
    last = runtime.exports_sent.get(user_id)
    if last is not None and now < last.again_at:
        return last
    runtime.exports_sent[user_id] = ExportTurn(now)
    return None


def export_sent(runtime: Runtime, user_id: str, now: datetime) -> None:
    """The file reached the person's DM: a repeat request says when, not "on its way"."""
    last = runtime.exports_sent.get(user_id)
    if last is not None:
        runtime.exports_sent[user_id] = replace(last, sent_at=now)


def release_export(runtime: Runtime, user_id: str) -> None:
    """Give the turn back when the export could not be sent: asking again must work."""
    runtime.exports_sent.pop(user_id, None)


# --- forgetting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    """What an erasure did: per table, rows deleted, anonymised, unlinked, rekeyed and with
    mentions replaced; and how many statements were queued for voiding at the LRS."""

    changes: dict[str, dict[str, int]]
    voided: int

    @property
    def changes_made(self) -> int:
        """Rows deleted, plus rows changed by each rule and by the sweep (a row two rules
        changed counts twice)."""
        return sum(sum(counts.values()) for counts in self.changes.values())


def statements_to_void(
    store: Store, team_id: str, user_id: str, *, now: datetime
) -> list[dict[str, Any]]:
    """Voiding statements, by Eddy, for every statement naming the person that may be at an
    LRS: those the forwarder has queued (it sends what it queues, so any may have arrived),
    and any the outbox says it sent. A voiding statement cannot itself be voided (xAPI), and
    one its giver already voided needs no second: those are left out. Statements never
    queued are only dropped: no LRS ever saw them."""
    source = xapi.source_for(store, team_id)
    if source is None:  # no statement could be made, so none was sent
        return []
    with store.session() as session:
        sent = rows.sent_statements(session, team_id=team_id, user_id=user_id)
        queued_until = outbox.queued_until(session, team_id=team_id)
    if queued_until is not None:
        sent += xapi.statements_naming(store, team_id, user_id, recorded_before=queued_until)
    ids = sorted(
        {
            statement["id"]
            for statement in sent
            if statement.get("verb", {}).get("id") != xapi.VOIDED.iri
        }
    )
    with store.session() as session:
        voided = records.voided_ids(session, team_id=team_id, ids=ids)
    return [xapi.voiding(source, found, now) for found in ids if found not in voided]


def forget_person(store: Store, team_id: str, user_id: str, *, now: datetime) -> Forgotten:
    """Forget the person in the workspace: void what an LRS may hold, then erase or
    anonymise every row, in one transaction (store/privacy.py says what becomes of each).

    The voiding statements are queued first and in a transaction of their own: should the
    erasure then fail, running it again queues nothing twice (voiding ids are stable) and
    finishes the job, whereas the other order could leave the LRS holding what Eddy forgot."""
    if not looks_like_user_id(user_id):
        raise ValueError(f"{user_id!r} is not a Slack user ID")
    xapi.record(store, team_id, now)  # everything so far, under their ID, to void and drop
    voiding = statements_to_void(store, team_id, user_id, now=now)
    voided = lrs.queue(store, team_id, voiding, now) if voiding else 0
    pseudonym = new_pseudonym()
    with store.session() as session:
        dropped, rewritten = xapi.forget_in_ledger(
            session, team_id=team_id, user_id=user_id, pseudonym=pseudonym, now=now
        )
        ledger = {rows.Action.DELETE.value: dropped - rewritten, rows.MENTIONS_REPLACED: rewritten}
        changes = rows.forget(
            session,
            team_id=team_id,
            user_id=user_id,
            pseudonym=pseudonym,
            at=now,
            shown_as=FORMER_MEMBER,
            voided=voided,
            done_before={"learning_record": ledger},
        )
    return Forgotten(changes=changes, voided=voided)


def content_naming(folder: Path, user_id: str) -> list[Path]:
    """Content files that name the person (an entry's `owner`, a topic's `managers`): the
    operator must edit them, or the next content load writes the ID back."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in {".md", ".yml", ".yaml"}
        and user_id in path.read_text(encoding="utf-8", errors="replace")
    )
