"""What Eddy keeps about one person, and erasing it (`app.py export user`, `forget user`).

Every table that names a person is in `RULES`, a table → policy list that says, column by
column, what becomes of the rows naming them, and why:

- **deleted**: state that only served them and that no figure counts (their lesson times,
  review deck, Home tab page, daily points budget, badges, expert memberships), and anything
  that would still reach them (lessons planned but not sent, question posts in their DM);
- **anonymised**: events the analytics and the knowledge index count (questions, routed
  questions, lessons, quiz answers, points, drafts, entries): the user ID becomes a pseudonym
  made fresh for this erasure (`former-` and random hex). It keeps the counts, the distinct-
  people figures and the unique keys exactly as they were, names nobody, and is never linked
  back (the mapping is not kept anywhere);
- **unlinked**: where nobody needs to stand in their place (who taught Eddy a wording), NULL;
- the free text they wrote that is not knowledge (their question wordings) is erased with it,
  and so is what would lead back to them through Slack, where messages keep their authors:
  the DM a question was asked in, the messages their points came from or went to, the link
  to a message of theirs saved as a draft.

After the rules, every text and JSON column of every table is swept for what is left: a
mention (`<@U…>`, `<@U…|name>`) or a bare occurrence of the ID in someone else's words reads
"former member"; a JSON value that is exactly the ID (a timeline step's `credit`, a topic's
`managers`) becomes the pseudonym. Tables added later are swept too, without a rule.

The `erasure` table records that an erasure happened and what it touched, without naming
whom: a privacy officer can show that requests were carried out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Table, and_, cast, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session

from store.base import TeamScoped, metadata, utc_field
from store.lessons import DUE, SENDING
from store.lrs import SENT
from store.networks import CLAIMED, OPEN, WITHDRAWN


class Erasure(TeamScoped, table=True):
    __tablename__ = "erasure"

    id: int | None = Field(default=None, primary_key=True)
    erased_at: datetime = utc_field()
    #: Rows deleted and rows anonymised, by table: {"question_log": {"anonymised": 12}, …}.
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    #: Statements already sent to the LRS that were queued for voiding.
    voided: int = 0


#: What the free text a person wrote, and that is not knowledge, becomes.
ERASED = ""
#: Tables the sweep leaves alone: the erasure records name nobody by construction.
UNSWEPT = frozenset({"erasure"})


class Action(StrEnum):
    DELETE = "deleted"
    #: The ID becomes the erasure's pseudonym.
    ANONYMISE = "anonymised"
    #: The ID becomes NULL.
    UNLINK = "unlinked"
    #: The ID inside a key (a text that embeds it) becomes the pseudonym, keeping it unique.
    REKEY = "rekeyed"


@dataclass(frozen=True)
class Rule:
    """What becomes of the rows of `table` whose `column` names the person."""

    table: str
    column: str
    action: Action
    why: str
    #: Only the rows whose columns hold one of these values (column → values).
    only: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: Set in the same rows too: text erased, quasi-identifiers cleared, a state changed.
    also: dict[str, Any] = field(default_factory=dict)
    #: The column embeds the ID (a key, a JSON document) rather than holding it.
    contains: bool = False


DELETE, ANONYMISE, UNLINK, REKEY = Action.DELETE, Action.ANONYMISE, Action.UNLINK, Action.REKEY
#: A points ledger row's Slack message, erased: Slack shows who wrote a message and who
#: reacted to it, so the message would name the person the pseudonym stands for.
UNMESSAGED = {"channel": ERASED, "message_ts": ERASED}
#: What the sweep counts: rows where someone else's words named the person.
MENTIONS_REPLACED = "mentions replaced"
#: Every kind of change an erasure reports, in the order to show them.
CHANGE_KINDS = (*(action.value for action in Action), MENTIONS_REPLACED)

#: Applied in this order (a narrower rule on a column comes before the general one).
RULES: tuple[Rule, ...] = (
    # --- their own state: deleted -----------------------------------------------------------
    Rule("learner", "user_id", DELETE, "their lesson time, time zone and streak"),
    Rule("lesson_subscription", "user_id", DELETE, "the paths they follow"),
    Rule("review_card", "user_id", DELETE, "their spaced-repetition deck"),
    Rule("assigned_person", "user_id", DELETE, "which assignments reached them"),
    Rule(
        "lesson_assignment",
        "target",
        DELETE,
        "a path assigned to them alone",
        only={"target_kind": ("person",)},
    ),
    Rule("home_state", "user_id", DELETE, "the Home tab page they last looked at"),
    Rule("giving_day", "giver", DELETE, "how much of their daily points budget they spent"),
    Rule("badge_award", "user_id", DELETE, "their badges: recognition of them, no figure"),
    Rule("network_member", "user_id", DELETE, "their expertise: nobody may route to them"),
    Rule("expert_away", "user_id", DELETE, "their away note as an expert"),
    Rule(
        "reaction_state",
        "giver",
        DELETE,
        "each reaction they gave is there or not; the points it gave stay in the ledger",
    ),
    Rule(
        "reaction_state",
        "receiver",
        DELETE,
        "reactions others gave their messages: the message would name them (Slack shows its "
        "author); the points stay in the ledger, and a reaction removed later takes none back",
    ),
    Rule(
        "routed_post",
        "recipient",
        DELETE,
        "questions Eddy posted in their DM (as an expert, or a notice)",
    ),
    Rule(
        "lesson_delivery",
        "recipient",
        DELETE,
        "lessons planned for them and not sent: they must never go out",
        only={"status": (DUE, SENDING)},
    ),
    Rule(
        "learning_record",
        "statement",
        DELETE,
        "learning records naming them (bot/xapi.py has dropped them already, and kept "
        "someone else's without them; this is what proves none is left)",
        contains=True,
    ),
    Rule(
        "record_identity",
        "key",
        DELETE,
        "the registrations of their way through learning paths",
        contains=True,
    ),
    Rule("lrs_outbox", "actor", DELETE, "statements by them, waiting for the LRS"),
    Rule(
        "channel_question",
        "asker",
        DELETE,
        "the questions they posted in help channels: the message would name them (Slack shows "
        "its author), and no follow-up must reach them; the figures count the logged question",
    ),
    Rule(
        "lrs_outbox",
        "statement",
        DELETE,
        "statements naming them in another role (who received a reaction's points)",
        contains=True,
    ),
    # --- events that figures count: anonymised ----------------------------------------------
    Rule(
        "listening_channel",
        "turned_on_by",
        ANONYMISE,
        "the channel keeps being listened in; who turned it on is nobody's business after",
    ),
    Rule(
        "question_log",
        "user_id",
        ANONYMISE,
        "counted as asked, answered, helpful and in the gaps; the wording is theirs, and the "
        "channel may be their DM with Eddy",
        also={"question": ERASED, "channel_id": None},
    ),
    Rule(
        "routed_question",
        "asker_id",
        ANONYMISE,
        "still waiting for an expert, for nobody: withdrawn (still counted as routed)",
        only={"status": (OPEN, CLAIMED)},
        also={"status": WITHDRAWN, "question": ERASED},
    ),
    Rule(
        "routed_question",
        "asker_id",
        ANONYMISE,
        "counted as routed and resolved; the wording is theirs",
        also={"question": ERASED},
    ),
    Rule(
        "routed_question",
        "claimed_by",
        UNLINK,
        "claimed and not answered: back to the network, for another expert",
        only={"status": (CLAIMED,)},
        also={"status": OPEN, "claimed_at": None},
    ),
    Rule("routed_question", "claimed_by", ANONYMISE, "counted in response times"),
    Rule(
        "routed_question",
        "answered_by",
        ANONYMISE,
        "their answer is knowledge they shared to help (it may be in the index): kept, by a "
        "former member",
    ),
    Rule("routed_step", "user_id", ANONYMISE, "the question's timeline: response times"),
    Rule(
        "entry_draft",
        "owner",
        ANONYMISE,
        "proposed knowledge: kept, by a former member; the link to their Slack message goes, "
        "since Slack shows its author",
        also={"source_url": None},
    ),
    Rule("entry_draft", "proposed_by", ANONYMISE, "proposed knowledge: kept"),
    Rule("entry_draft", "reviewed_by", ANONYMISE, "the review decision stands"),
    Rule("knowledge_entry", "owner", ANONYMISE, "knowledge stays; its owner: a former member"),
    Rule("entry_review", "confirmed_by", ANONYMISE, "the entry still counts as reviewed"),
    Rule(
        "learned_question",
        "learned_from",
        UNLINK,
        "the wording is part of the index now and answers others; who taught it is forgotten",
    ),
    Rule("learned_question", "confirmed_by", ANONYMISE, "a manager's confirmation stands"),
    Rule("learned_question", "removed_by", ANONYMISE, "a removed wording stays removed"),
    Rule("lesson_schedule", "created_by", ANONYMISE, "the channel's schedule keeps running"),
    Rule(
        "lesson_delivery",
        "recipient",
        ANONYMISE,
        "counted as lessons delivered; the DM message it was is unlinked",
        also={"channel": None, "ts": None},
    ),
    Rule(
        "lesson_delivery",
        "dedupe_key",
        REKEY,
        "one delivery per person and day: the key embeds the ID",
        contains=True,
    ),
    Rule("quiz_answer", "user_id", ANONYMISE, "counted in quiz accuracy and active learners"),
    Rule("lesson_done", "user_id", ANONYMISE, "counted in active learners"),
    Rule("lesson_reminder", "user_id", ANONYMISE, "counted as reminders sent"),
    Rule("path_completion", "user_id", ANONYMISE, "counted as paths completed"),
    Rule(
        "point_ledger",
        "giver",
        ANONYMISE,
        "counted as points given; which message it was goes (Slack shows who reacted)",
        also=UNMESSAGED,
    ),
    Rule(
        "point_ledger",
        "receiver",
        ANONYMISE,
        "the ledger balances the totals; which message it was goes (Slack shows its author)",
        also=UNMESSAGED,
    ),
    Rule(
        "point_total",
        "user_id",
        ANONYMISE,
        "the ledger's sums, so that `badges audit` still balances; leaderboards leave former "
        "members out",
    ),
    Rule("network_member", "added_by", ANONYMISE, "who added an expert: the expert stays"),
    Rule("lesson_assignment", "assigned_by", ANONYMISE, "who assigned a path: it stays"),
    Rule("lesson_assignment", "removed_by", ANONYMISE, "who unassigned a path"),
)


#: JSON columns that credit a person by ID among other details (a resolved question's
#: `credit`: who answered it): such rows are about that person too. No rule rewrites them;
#: the sweep gives the ID the pseudonym, and the rest of the detail stays.
CREDITS: dict[str, str] = {"routed_step": "detail"}


def _table(name: str) -> Table:
    return metadata.tables[name]


def _stored_as(column: Any) -> Any:
    """The type the database stores a column as (SQLModel's strings are a TypeDecorator)."""
    return column.type.impl if isinstance(column.type, TypeDecorator) else column.type


def _as_text(column: Any) -> Any:
    """A column as text, so that JSON documents can be searched on both backends."""
    return cast(column, String) if isinstance(_stored_as(column), JSON) else column


def _names(table: Table, column: str, user_id: str, *, contains: bool) -> ColumnElement[bool]:
    found = table.c[column]
    return _as_text(found).contains(user_id, autoescape=True) if contains else found == user_id


def _rule_where(rule: Rule, team_id: str, user_id: str) -> list[ColumnElement[bool]]:
    table = _table(rule.table)
    where = [
        table.c.team_id == team_id,
        _names(table, rule.column, user_id, contains=rule.contains),
    ]
    where += [table.c[name].in_(values) for name, values in rule.only.items()]
    return where


# --- what Eddy keeps about them ---------------------------------------------------------------


def _columns_naming() -> dict[str, list[tuple[str, bool]]]:
    """For each table with rules (or credits): its columns that name a person, and whether
    they embed the ID rather than hold it."""
    found: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    named = [(rule.table, rule.column, rule.contains) for rule in RULES]
    named += [(table, column, True) for table, column in CREDITS.items()]
    for table, column, embeds in named:
        if (column, embeds) not in found[table]:
            found[table].append((column, embeds))
    return found


def _plain(value: Any) -> Any:
    """A value as JSON has it (times as ISO-8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def person_rows(session: Session, *, team_id: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row that is about the person (a column of `RULES` or `CREDITS` names them),
    table by table, as JSON-ready dicts in key order; tables with none are left out."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, columns in sorted(_columns_naming().items()):
        table = _table(name)
        naming = [_names(table, column, user_id, contains=embeds) for column, embeds in columns]
        query = (
            select(table)
            .where(table.c.team_id == team_id, or_(*naming))
            .order_by(*table.primary_key.columns)
        )
        rows = [
            {key: _plain(value) for key, value in row._mapping.items() if key != "team_id"}
            for row in session.execute(query)
        ]
        if rows:
            found[name] = rows
    return found


def _text_columns(table: Table) -> list[Any]:
    return [
        column
        for column in table.columns
        if isinstance(_stored_as(column), String | JSON) and column.name != "team_id"
    ]


def _mentioning(table: Table, team_id: str, user_id: str) -> Any:
    """The rows of `table` in whose text or JSON the ID appears (any role, any words)."""
    columns = _text_columns(table)
    if "team_id" not in table.c or not columns:
        return None
    found = or_(*(_as_text(column).contains(user_id, autoescape=True) for column in columns))
    return select(table).where(table.c.team_id == team_id, found)


def mentions(session: Session, *, team_id: str, user_id: str) -> dict[str, int]:
    """Rows that are not about the person but whose words name them (someone else's question
    mentioning them, a content file's topic managers), counted by table. Other people's words
    are theirs, so an export counts these rather than copying them."""
    naming = _columns_naming()
    counted: dict[str, int] = {}
    for table in metadata.sorted_tables:
        query = _mentioning(table, team_id, user_id)
        if query is None or table.name in UNSWEPT:
            continue
        columns = naming.get(table.name, [])
        theirs = [_names(table, column, user_id, contains=embeds) for column, embeds in columns]
        if theirs:
            query = query.where(~or_(*theirs))
        number = session.execute(select(func.count()).select_from(query.subquery())).scalar()
        if number:
            counted[table.name] = int(number)
    return counted


def sent_statements(session: Session, *, team_id: str, user_id: str) -> list[dict[str, Any]]:
    """Statements naming the person that the outbox says the LRS has (sent ones are kept a
    while after sending)."""
    outbox = _table("lrs_outbox")
    query = select(outbox.c.statement).where(
        outbox.c.team_id == team_id,
        outbox.c.status == SENT,
        or_(
            outbox.c.actor == user_id,
            _names(outbox, "statement", user_id, contains=True),
        ),
    )
    return list(session.execute(query).scalars())


def teams(session: Session) -> list[str]:
    """Every workspace with rows in this database."""
    found: set[str] = set()
    for table in metadata.sorted_tables:
        if "team_id" in table.c:
            found |= set(session.execute(select(table.c.team_id).distinct()).scalars())
    return sorted(found)


# --- forgetting them --------------------------------------------------------------------------


def _apply(session: Session, rule: Rule, team_id: str, user_id: str, pseudonym: str) -> int:
    table = _table(rule.table)
    where = and_(*_rule_where(rule, team_id, user_id))
    if rule.action is DELETE:
        result = session.execute(delete(table).where(where))
    else:
        column = table.c[rule.column]
        stands_in: Any = {
            ANONYMISE: pseudonym,
            UNLINK: None,
            REKEY: func.replace(column, user_id, pseudonym),
        }[rule.action]
        result = session.execute(
            update(table).where(where).values({rule.column: stands_in, **rule.also})
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


class Rewriter:
    """What is left of the ID in text and JSON once the rules ran: a mention or a bare
    occurrence in someone's words reads `shown_as` ("former member"); a JSON value (or key),
    or a whole text column, that is exactly the ID is an ID, and gets the pseudonym."""

    def __init__(self, user_id: str, pseudonym: str, shown_as: str) -> None:
        self.user_id, self.pseudonym, self.shown_as = user_id, pseudonym, shown_as
        escaped = re.escape(user_id)
        self._mention = re.compile(rf"<@{escaped}(?:\|[^<>]*)?>")
        # Typed text keeps a mention as "@U…" (handlers/blocks.py): the "@" goes with the ID.
        self._bare = re.compile(rf"(?:@|(?<![A-Za-z0-9])){escaped}(?![A-Za-z0-9])")

    def text(self, value: str) -> str:
        if value == self.user_id:
            return self.pseudonym
        return self._bare.sub(self.shown_as, self._mention.sub(self.shown_as, value))

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self.json(item) for key, item in value.items()}
        return value


def sweep(
    session: Session, *, team_id: str, user_id: str, pseudonym: str, shown_as: str
) -> dict[str, int]:
    """Rewrite what is left of the ID in every text and JSON column of every table (see
    `Rewriter`); rows changed, by table. Each table is read whole (`LIKE '%ID%'` uses no
    index): an erasure is rare and run by an operator, and this is what proves the ID gone."""
    rewrite = Rewriter(user_id, pseudonym, shown_as)
    changed: dict[str, int] = {}
    for table in metadata.sorted_tables:
        query = _mentioning(table, team_id, user_id)
        if query is None or table.name in UNSWEPT:
            continue
        key = list(table.primary_key.columns)
        for row in session.execute(query).all():
            values = {
                column.name: (
                    rewrite.json if isinstance(_stored_as(column), JSON) else rewrite.text
                )(row._mapping[column.name])
                for column in _text_columns(table)
                if row._mapping[column.name] is not None
            }
            same_row = and_(*(column == row._mapping[column.name] for column in key))
            session.execute(update(table).where(same_row).values(values))
            changed[table.name] = changed.get(table.name, 0) + 1
    return changed


def forget(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    pseudonym: str,
    at: datetime,
    shown_as: str,
    voided: int = 0,
    done_before: dict[str, dict[str, int]] | None = None,
) -> dict[str, dict[str, int]]:
    """Erase or anonymise everything the workspace's tables keep about the person, by
    `RULES` then the sweep (others' words that named them read `shown_as`), in the caller's
    transaction, and record the erasure (counts only, and `voided`: statements queued for
    voiding at the LRS), with `done_before` (what the caller changed in this transaction
    already). Returns what changed: table → {"deleted": n, "anonymised": n, …}."""
    changes: dict[str, dict[str, int]] = defaultdict(dict)
    for table, counts in (done_before or {}).items():
        changes[table].update({kind: count for kind, count in counts.items() if count})
    for rule in RULES:
        count = _apply(session, rule, team_id, user_id, pseudonym)
        if count:
            tally = changes[rule.table]
            tally[rule.action.value] = tally.get(rule.action.value, 0) + count
    swept = sweep(session, team_id=team_id, user_id=user_id, pseudonym=pseudonym, shown_as=shown_as)
    for table, count in swept.items():
        changes[table][MENTIONS_REPLACED] = count
    result = {table: dict(counts) for table, counts in sorted(changes.items())}
    session.add(Erasure(team_id=team_id, erased_at=at, changes=result, voided=voided))
    return result
