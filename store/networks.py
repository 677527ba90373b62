"""Subject-matter networks: their topics as last loaded, who is in them, and every question
routed to them with its posts and its timeline (the entries drafted from an answer are the
review queue's: `store.review`).

State changes that several people (or several Eddy instances) may attempt at once — a claim,
an answer, a resolution, an escalation tier — are single conditional
UPDATEs: the database lets exactly one of them match, and the caller learns from the row count
whether it won.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    UniqueConstraint,
    and_,
    delete,
    false,
    func,
    not_,
    or_,
    update,
)
from sqlmodel import Field, Session, col, select

from store.base import (
    KEY_LENGTH,
    SLUG_LENGTH,
    ContentSpec,
    TeamKeyed,
    TeamScoped,
    changed,
    insert_for,
    save_specs,
    utc_field,
)

OPEN, CLAIMED, ANSWERED, RESOLVED = "open", "claimed", "answered", "resolved"
#: A question whose asker was forgotten (`app.py forget user`) while it waited: nobody can be
#: told an answer, so it leaves every waiting list (and still counts as routed).
WITHDRAWN = "withdrawn"


class NetworkTopicRow(ContentSpec, table=True):
    """A networks.yml topic as last loaded without problems."""

    __tablename__ = "network_topic"


class NetworkMember(TeamKeyed, table=True):
    __tablename__ = "network_member"

    topic: str = Field(max_length=KEY_LENGTH, primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    #: Who added them (themselves, or a community manager).
    added_by: str = Field(max_length=32)
    joined_at: datetime = utc_field()


class ExpertAway(TeamKeyed, table=True):
    """An expert who asked not to be sent questions for now (`/experts away`)."""

    __tablename__ = "expert_away"

    user_id: str = Field(max_length=32, primary_key=True)
    since: datetime = utc_field()


class RoutedQuestion(TeamScoped, table=True):
    """A question sent to a network, and what became of it."""

    __tablename__ = "routed_question"

    id: int | None = Field(default=None, primary_key=True)
    #: The logged question it came from (question_log.id).
    question_id: int | None = Field(default=None, index=True)
    topic: str = Field(max_length=KEY_LENGTH, index=True)
    asker_id: str = Field(max_length=32, index=True)
    #: As the asker typed it (plain text, not escaped: see handlers/blocks.py).
    question: str
    #: "open" (nobody has it), "claimed", "answered" or "resolved".
    status: str = Field(max_length=16, index=True)
    routed_at: datetime = utc_field()
    claimed_by: str | None = Field(default=None, max_length=32, index=True)
    claimed_at: datetime | None = utc_field(default=None, nullable=True)
    answered_by: str | None = Field(default=None, max_length=32)
    answer: str | None = None
    answered_at: datetime | None = utc_field(default=None, nullable=True)
    resolved_at: datetime | None = utc_field(default=None, nullable=True)
    #: How many escalation tiers have fired.
    escalation_tier: int = 0
    #: The knowledge entry its answer became.
    saved_slug: str | None = Field(default=None, max_length=SLUG_LENGTH)


class RoutedPost(TeamScoped, table=True):
    """A message Eddy posted for a routed question: in the network's channel (no recipient)
    or as a DM to one expert. Replies in its thread are answers. A `notice` went to someone
    the question was not sent to as an expert (a manager's alert, a note to the answerer):
    its thread is the question's too, but it does not count as asking that person."""

    __tablename__ = "routed_post"
    __table_args__ = (UniqueConstraint("team_id", "channel", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    routed_id: int = Field(index=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    recipient: str | None = Field(default=None, max_length=32, index=True)
    posted_at: datetime = utc_field()
    notice: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class ActionPost(TeamScoped, table=True):
    """A message Eddy posted whose buttons stop meaning anything once their action is done: a
    draft's review card in each reviewer's DM (`kind` "review", `about` the draft); about a
    routed question, a "Save to knowledge index" prompt ("save"), the answer in the asker's
    DM ("answer") and a manager's alert ("alert"). Kept until the message is redrawn without
    those buttons (alerts for as long as the question's other posts), so that no copy is left
    that can only answer "already done"."""

    __tablename__ = "action_post"
    __table_args__ = (UniqueConstraint("team_id", "channel", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    about: int = Field(index=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    posted_at: datetime = utc_field()


class RoutedStep(TeamScoped, table=True):
    """One step of a routed question's timeline: asked, routed, claimed, answered, resolved,
    escalated, saved (and released, when a claimer leaves)."""

    __tablename__ = "routed_step"

    id: int | None = Field(default=None, primary_key=True)
    routed_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    at: datetime = utc_field(index=True)
    user_id: str | None = Field(default=None, max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- topics -------------------------------------------------------------------------------


def topics(session: Session, *, team_id: str) -> list[NetworkTopicRow]:
    query = select(NetworkTopicRow).where(NetworkTopicRow.team_id == team_id)
    return list(session.exec(query.order_by(col(NetworkTopicRow.key))))


def save_topics(
    session: Session,
    *,
    team_id: str,
    specs: dict[str, dict[str, Any]],
    keep: set[str],
    at: datetime,
) -> None:
    """Store the good topics; topics in `keep` (broken in the file) stay as they were, and
    topics in neither are gone."""
    save_specs(
        session,
        current={row.key: row for row in topics(session, team_id=team_id)},
        make=lambda key: NetworkTopicRow(team_id=team_id, key=key, updated_at=at),
        specs=specs,
        keep=keep,
        at=at,
    )


# --- members ------------------------------------------------------------------------------


def join(
    session: Session, *, team_id: str, topic: str, user_id: str, added_by: str, at: datetime
) -> bool:
    """Add `user_id` to the topic's network; False if they were in it already."""
    statement = (
        insert_for(session)(NetworkMember)
        .values(team_id=team_id, topic=topic, user_id=user_id, added_by=added_by, joined_at=at)
        .on_conflict_do_nothing()
        .returning(col(NetworkMember.user_id))
    )
    return session.execute(statement).first() is not None


def leave(session: Session, *, team_id: str, topic: str, user_id: str) -> bool:
    statement = delete(NetworkMember).where(
        col(NetworkMember.team_id) == team_id,
        col(NetworkMember.topic) == topic,
        col(NetworkMember.user_id) == user_id,
    )
    return changed(session, statement)


def members(session: Session, *, team_id: str, topic: str | None = None) -> list[NetworkMember]:
    """Members of one topic (or of all), longest-standing first."""
    query = select(NetworkMember).where(NetworkMember.team_id == team_id)
    if topic is not None:
        query = query.where(NetworkMember.topic == topic)
    return list(
        session.exec(query.order_by(col(NetworkMember.joined_at), col(NetworkMember.user_id)))
    )


def memberships(session: Session, *, team_id: str, user_id: str) -> list[str]:
    query = select(NetworkMember.topic).where(
        NetworkMember.team_id == team_id, NetworkMember.user_id == user_id
    )
    return sorted(session.exec(query))


def set_away(session: Session, *, team_id: str, user_id: str, away: bool, at: datetime) -> bool:
    """Mark (or unmark) `user_id` away; False when nothing changed."""
    if not away:
        statement = delete(ExpertAway).where(
            col(ExpertAway.team_id) == team_id, col(ExpertAway.user_id) == user_id
        )
        return changed(session, statement)
    insert = (
        insert_for(session)(ExpertAway)
        .values(team_id=team_id, user_id=user_id, since=at)
        .on_conflict_do_nothing()
        .returning(col(ExpertAway.user_id))
    )
    return session.execute(insert).first() is not None


def away(session: Session, *, team_id: str) -> set[str]:
    return set(session.exec(select(ExpertAway.user_id).where(ExpertAway.team_id == team_id)))


# --- routed questions ---------------------------------------------------------------------


def route(
    session: Session,
    *,
    team_id: str,
    question_id: int | None,
    topic: str,
    asker_id: str,
    question: str,
    at: datetime,
) -> RoutedQuestion:
    row = RoutedQuestion(
        team_id=team_id,
        question_id=question_id,
        topic=topic,
        asker_id=asker_id,
        question=question,
        status=OPEN,
        routed_at=at,
    )
    session.add(row)
    session.flush()
    return row


def routed(session: Session, *, team_id: str, routed_id: int) -> RoutedQuestion | None:
    row = session.get(RoutedQuestion, routed_id)
    return row if row is not None and row.team_id == team_id else None


def routed_from(session: Session, *, team_id: str, question_id: int) -> RoutedQuestion | None:
    """The routed question a logged question became, if it was sent to the experts."""
    query = select(RoutedQuestion).where(
        RoutedQuestion.team_id == team_id, RoutedQuestion.question_id == question_id
    )
    return session.exec(query).first()


def routed_questions(
    session: Session,
    *,
    team_id: str,
    statuses: tuple[str, ...] | None = None,
    topic: str | None = None,
    claimed_by: str | None = None,
) -> list[RoutedQuestion]:
    """Routed questions, oldest first, filtered by status, topic or claimer."""
    query = select(RoutedQuestion).where(RoutedQuestion.team_id == team_id)
    if statuses is not None:
        query = query.where(col(RoutedQuestion.status).in_(statuses))
    if topic is not None:
        query = query.where(RoutedQuestion.topic == topic)
    if claimed_by is not None:
        query = query.where(RoutedQuestion.claimed_by == claimed_by)
    return list(session.exec(query.order_by(col(RoutedQuestion.id))))


def teams(session: Session) -> list[str]:
    """Every workspace that has routed questions (for reports across workspaces)."""
    query = select(RoutedQuestion.team_id).distinct().order_by(col(RoutedQuestion.team_id))
    return list(session.exec(query))


def _where(team_id: str, routed_id: int) -> Any:
    return and_(col(RoutedQuestion.team_id) == team_id, col(RoutedQuestion.id) == routed_id)


def claim(session: Session, *, team_id: str, routed_id: int, user_id: str, at: datetime) -> bool:
    """Claim an open question; exactly one of several simultaneous claims wins."""
    statement = (
        update(RoutedQuestion)
        .where(_where(team_id, routed_id), col(RoutedQuestion.status) == OPEN)
        .values(status=CLAIMED, claimed_by=user_id, claimed_at=at)
    )
    return changed(session, statement)


def release(session: Session, *, team_id: str, routed_id: int, user_id: str) -> bool:
    """Give a claimed, unanswered question back to the network."""
    statement = (
        update(RoutedQuestion)
        .where(
            _where(team_id, routed_id),
            col(RoutedQuestion.status) == CLAIMED,
            col(RoutedQuestion.claimed_by) == user_id,
        )
        .values(status=OPEN, claimed_by=None, claimed_at=None)
    )
    return changed(session, statement)


def answer(
    session: Session, *, team_id: str, routed_id: int, user_id: str, text: str, at: datetime
) -> bool:
    """Record the answer: by the claimer, or by anyone while it is open (which claims it)."""
    claimed = col(RoutedQuestion.status) == CLAIMED
    mine = and_(claimed, col(RoutedQuestion.claimed_by) == user_id)
    statement = (
        update(RoutedQuestion)
        .where(_where(team_id, routed_id), or_(col(RoutedQuestion.status) == OPEN, mine))
        .values(
            status=ANSWERED,
            claimed_by=user_id,
            claimed_at=func.coalesce(col(RoutedQuestion.claimed_at), at),
            answered_by=user_id,
            answer=text,
            answered_at=at,
        )
    )
    return changed(session, statement)


def add_to_answer(
    session: Session, *, team_id: str, routed_id: int, user_id: str, text: str
) -> bool:
    """Append the answerer's follow-up to their answer (after a blank line), in one UPDATE so
    that follow-ups sent at once are all kept. False when `user_id` did not answer it."""
    statement = (
        update(RoutedQuestion)
        .where(_where(team_id, routed_id), col(RoutedQuestion.answered_by) == user_id)
        .values(answer=func.coalesce(col(RoutedQuestion.answer), "") + "\n\n" + text)
    )
    return changed(session, statement)


def resolve(session: Session, *, team_id: str, routed_id: int, at: datetime) -> bool:
    statement = (
        update(RoutedQuestion)
        .where(_where(team_id, routed_id), col(RoutedQuestion.status) == ANSWERED)
        .values(status=RESOLVED, resolved_at=at)
    )
    return changed(session, statement)


def escalate(
    session: Session, *, team_id: str, routed_id: int, after_tier: int, to_tier: int
) -> bool:
    """Move an open question from tier `after_tier` to `to_tier`; one instance wins."""
    statement = (
        update(RoutedQuestion)
        .where(
            _where(team_id, routed_id),
            col(RoutedQuestion.status) == OPEN,
            col(RoutedQuestion.escalation_tier) == after_tier,
        )
        .values(escalation_tier=to_tier)
    )
    return changed(session, statement)


def mark_saved(session: Session, *, team_id: str, routed_id: int, slug: str) -> None:
    session.execute(
        update(RoutedQuestion).where(_where(team_id, routed_id)).values(saved_slug=slug)
    )


# --- posts --------------------------------------------------------------------------------


def add_post(
    session: Session,
    *,
    team_id: str,
    routed_id: int,
    channel: str,
    ts: str,
    recipient: str | None,
    at: datetime,
    notice: bool = False,
) -> None:
    session.add(
        RoutedPost(
            team_id=team_id,
            routed_id=routed_id,
            channel=channel,
            ts=ts,
            recipient=recipient,
            posted_at=at,
            notice=notice,
        )
    )


def add_action_post(
    session: Session, *, team_id: str, kind: str, about: int, channel: str, ts: str, at: datetime
) -> None:
    session.add(
        ActionPost(team_id=team_id, kind=kind, about=about, channel=channel, ts=ts, posted_at=at)
    )


def action_posts(
    session: Session, *, team_id: str, kind: str, about: int, forget: bool
) -> list[tuple[str, str]]:
    """(channel, ts) of the action posts of `kind` about `about`; `forget`: deleted as they
    are returned (whoever takes them redraws them for the last time)."""
    where = [
        col(ActionPost.team_id) == team_id,
        col(ActionPost.kind) == kind,
        col(ActionPost.about) == about,
    ]
    query = select(ActionPost).where(*where).order_by(col(ActionPost.id))
    found = [(row.channel, row.ts) for row in session.exec(query)]
    if forget:
        session.execute(delete(ActionPost).where(*where))
    return found


def posts(session: Session, *, team_id: str, routed_id: int) -> list[RoutedPost]:
    query = select(RoutedPost).where(
        RoutedPost.team_id == team_id, RoutedPost.routed_id == routed_id
    )
    return list(session.exec(query.order_by(col(RoutedPost.id))))


def post_at(session: Session, *, team_id: str, channel: str, ts: str) -> RoutedPost | None:
    """The routed post whose thread a message is in."""
    query = select(RoutedPost).where(
        RoutedPost.team_id == team_id, RoutedPost.channel == channel, RoutedPost.ts == ts
    )
    return session.exec(query).first()


def expert_load(
    session: Session, *, team_id: str, user_ids: list[str]
) -> dict[str, tuple[int, datetime | None]]:
    """For each expert: how many questions wait on them (sent to them and still open, or
    claimed by them and unanswered) and when they were last sent one."""
    waiting = dict.fromkeys(user_ids, 0)
    last_sent: dict[str, datetime | None] = dict.fromkeys(user_ids)
    sent_open = (
        select(RoutedPost.recipient, func.count())
        .join(RoutedQuestion, col(RoutedQuestion.id) == col(RoutedPost.routed_id))
        .where(
            RoutedPost.team_id == team_id,
            col(RoutedPost.recipient).in_(user_ids),
            not_(col(RoutedPost.notice)),
            RoutedQuestion.status == OPEN,
        )
        .group_by(col(RoutedPost.recipient))
    )
    claimed = (
        select(RoutedQuestion.claimed_by, func.count())
        .where(
            RoutedQuestion.team_id == team_id,
            col(RoutedQuestion.claimed_by).in_(user_ids),
            RoutedQuestion.status == CLAIMED,
        )
        .group_by(col(RoutedQuestion.claimed_by))
    )
    for query in (sent_open, claimed):
        for user, count in session.execute(query):
            waiting[user] += count
    latest = (
        select(RoutedPost.recipient, func.max(RoutedPost.posted_at))
        .where(
            RoutedPost.team_id == team_id,
            col(RoutedPost.recipient).in_(user_ids),
            not_(col(RoutedPost.notice)),
        )
        .group_by(col(RoutedPost.recipient))
    )
    for user, at in session.execute(latest):
        last_sent[user] = at
    return {user: (waiting[user], last_sent[user]) for user in user_ids}


# --- timeline -----------------------------------------------------------------------------


def add_step(
    session: Session,
    *,
    team_id: str,
    routed_id: int,
    kind: str,
    at: datetime,
    user_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        RoutedStep(
            team_id=team_id,
            routed_id=routed_id,
            kind=kind,
            at=at,
            user_id=user_id,
            detail=detail or {},
        )
    )


def steps(session: Session, *, team_id: str, routed_id: int | None = None) -> list[RoutedStep]:
    query = select(RoutedStep).where(RoutedStep.team_id == team_id)
    if routed_id is not None:
        query = query.where(RoutedStep.routed_id == routed_id)
    return list(session.exec(query.order_by(col(RoutedStep.at), col(RoutedStep.id))))


def answers_given(session: Session, *, team_id: str, user_id: str) -> int:
    """Routed questions this person answered (what expert badges count)."""
    query = (
        select(func.count())
        .select_from(RoutedQuestion)
        .where(RoutedQuestion.team_id == team_id, RoutedQuestion.answered_by == user_id)
    )
    return int(session.exec(query).one())
