"""Subject-matter networks: who knows what, and the life of a question sent to them.

A question the index could not answer goes to a topic's network — its channel, or DMs to a
few experts chosen fairly — where one expert claims it, answers, and the asker marks it
resolved; the answer can then be drafted into a knowledge entry (`bot.review`, which owns
drafts and their review: here only who may save an answer, and the question's record of
it). Unclaimed questions escalate in tiers.

No Slack here: plain values in, plain results out. The handlers post the messages; the
scheduled escalation hands its notices to `runtime.notify`.

    sent = send(runtime, question_id=7, user_id="U1", topic_key="it-help", question="…")
    record_posts(runtime, sent.routed.id, [Post("C1", "1.0001", None)])
    outcome, routed = claim(runtime, routed_id=sent.routed.id, user_id="U2")

Who may do what is decided here, against the question's row, whatever buttons the person saw
(a forged request changes nothing, is logged, and gets NOT_ALLOWED or NOT_YOURS):

- claim or answer: while the question is open, anyone but the asker when it was posted in
  its network's channel (everyone there sees it); when it went by DM, only the experts it
  was sent to (while they are still in the network) and the topic's managers and community
  managers (who are alerted when nobody can be asked, or nobody answers). Once claimed, its
  claimer; once answered, its answerer's follow-ups.
- send to the experts, mark resolved, say "not yet": the asker.
- save to the knowledge index: the expert who answered, the asker, managers (the draft and
  its review are `bot.review`'s).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, utils
from sqlmodel import Session

from bot import badges
from bot.content.networks import NOTIFY_MANAGERS, NOTIFY_NETWORK, EscalationTier, Topic
from bot.names import find_by_name
from bot.runtime import HomeChanged, Runtime
from store import Store
from store import knowledge as question_rows
from store import networks as rows

log = logging.getLogger(__name__)

#: Keywords count for a topic when they appear in the question this closely (partial_ratio).
KEYWORD_MATCH = 90
#: A keyword found in the question weighs like a search hit scoring this much.
KEYWORD_WEIGHT = 0.3
OPEN, CLAIMED, ANSWERED, RESOLVED = rows.OPEN, rows.CLAIMED, rows.ANSWERED, rows.RESOLVED
WITHDRAWN = rows.WITHDRAWN


class Outcome(StrEnum):
    DONE = "done"
    TAKEN = "taken"  # somebody else has it (claimed or answered it first)
    ALREADY = "already"  # it is already in that state (e.g. resolved)
    NOT_YOURS = "not_yours"  # only the asker (or: not the asker) may do this
    NOT_ALLOWED = "not_allowed"  # this person may not do this (see the module's docstring)
    UNRESOLVED = "unresolved"  # not resolved yet (only a resolved answer can be saved)
    GONE = "gone"  # no such question, topic or draft


@dataclass(frozen=True)
class Routed:
    """A question sent to a network, as it stands."""

    id: int
    topic: Topic
    asker: str
    question: str
    status: str
    routed_at: datetime
    question_id: int | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    answered_by: str | None = None
    answer: str | None = None
    saved_slug: str | None = None
    escalation_tier: int = 0


@dataclass(frozen=True)
class Post:
    """A message Eddy posted for a routed question (no recipient: the network's channel).
    A `notice` went to someone the question was not sent to as an expert (a manager's
    "Needs you", a note to the answerer): a reply in its thread still reaches the question,
    but it does not make its recipient one of the experts asked."""

    channel: str
    ts: str
    recipient: str | None
    notice: bool = False


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    #: The words were not the topic's key or name: say which topic they were taken for.
    fuzzy: bool


@dataclass(frozen=True)
class Preparation:
    """What the "Ask the experts" form starts from."""

    question_id: int
    question: str
    topics: tuple[Topic, ...]
    suggested: Topic | None


@dataclass(frozen=True)
class Sent:
    routed: Routed
    #: Post in this channel (the topic's), or else DM `experts`.
    channel: str | None
    experts: tuple[str, ...]
    #: Why nobody could be asked ("no experts" / "all away"), when nobody could.
    nobody: str | None = None


@dataclass(frozen=True)
class Escalation:
    """A tier that came due for an unclaimed question (handed to `runtime.notify`)."""

    routed: Routed
    tier: int
    notify: str
    #: Experts asked for the first time at this tier (widening the circle).
    new_experts: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Released:
    """A question whose expert left its network before answering."""

    routed: Routed
    #: Whether the leaver had claimed it (it is open again) or was only sent it.
    was_claimed: bool
    new_experts: tuple[str, ...]


@dataclass(frozen=True)
class TopicTimes:
    """How fast a topic's network responds (medians over routed questions)."""

    topic: str
    asked: int
    answered: int
    resolved: int
    first_response: timedelta | None
    resolution: timedelta | None


@dataclass(frozen=True)
class ExpertProfile:
    topics: tuple[Topic, ...]
    away: bool
    claimed: tuple[Routed, ...] = ()
    answered: int = 0
    resolved: int = 0
    saved: int = 0


# --- topics -------------------------------------------------------------------------------


def topics(runtime: Runtime) -> list[Topic]:
    return list(runtime.catalogue.topics.values())


def topic(runtime: Runtime, key: str) -> Topic | None:
    return runtime.catalogue.topics.get(key)


def find_topic(runtime: Runtime, words: str) -> TopicMatch | None:
    """The topic `words` name: its key or name exactly, else the closest within reason."""
    names = {candidate.key: (candidate.key, candidate.name) for candidate in topics(runtime)}
    match = find_by_name(words, names)
    if match is None:
        return None
    return TopicMatch(runtime.catalogue.topics[match.key], fuzzy=match.fuzzy)


def managers_of(runtime: Runtime, topic: Topic) -> tuple[str, ...]:
    """Who looks after a topic: its own managers, else the community managers."""
    return topic.managers or tuple(runtime.settings.eddy_managers)


class Alerted(StrEnum):
    """What became of alerting a topic's managers about a question, so the asker is told
    what happened rather than that someone was told."""

    TOLD = "told"  # at least one manager got the message
    NOBODY_SET = "nobody set"  # the topic has no managers and EDDY_MANAGERS is empty
    ONLY_ASKER = "only asker"  # the asker is the topic's only manager: nobody else to tell
    UNREACHABLE = "unreachable"  # Slack refused every manager's message


def alerted(managers: Sequence[str], told: Sequence[str], asker: str) -> Alerted:
    """Classify an alert from who looks after the topic and who actually got the message."""
    if told:
        return Alerted.TOLD
    if not managers:
        return Alerted.NOBODY_SET
    if all(manager == asker for manager in managers):
        return Alerted.ONLY_ASKER
    return Alerted.UNREACHABLE


def may_manage(runtime: Runtime, user_id: str, topic: Topic | None = None) -> bool:
    """Community managers manage every topic; a topic's managers manage theirs."""
    return runtime.is_manager(user_id) or (topic is not None and user_id in topic.managers)


def suggest_topic(
    runtime: Runtime, question: str, slugs: Iterable[tuple[str, float]]
) -> Topic | None:
    """The topic a question most likely belongs to: the topics of its best-matching entries
    (weighted by score), plus the topics whose keywords appear in it."""
    known = runtime.catalogue.topics
    weight: dict[str, float] = {}
    for slug, score in slugs:
        entry = runtime.catalogue.get(slug)
        if entry is not None and entry.topic in known:
            weight[entry.topic] = weight.get(entry.topic, 0.0) + score
    text = utils.default_process(question)
    for key, candidate in known.items():
        for keyword in candidate.keywords:
            if fuzz.partial_ratio(utils.default_process(keyword), text) >= KEYWORD_MATCH:
                weight[key] = weight.get(key, 0.0) + KEYWORD_WEIGHT
    if not weight:
        return None
    return known[max(weight, key=lambda key: weight[key])]


# --- members ------------------------------------------------------------------------------


def experts(runtime: Runtime, topic_key: str) -> list[str]:
    with runtime.store.session() as session:
        return [m.user_id for m in rows.members(session, team_id=runtime.team_id, topic=topic_key)]


def member_counts(runtime: Runtime) -> dict[str, int]:
    counts: dict[str, int] = {}
    with runtime.store.session() as session:
        for member in rows.members(session, team_id=runtime.team_id):
            counts[member.topic] = counts.get(member.topic, 0) + 1
    return counts


def join(runtime: Runtime, *, topic_key: str, user_id: str, added_by: str) -> Outcome:
    """Add someone to a network: DONE, ALREADY (they were in it), or NOT_ALLOWED (only the
    topic's managers and community managers add someone other than themselves)."""
    if added_by != user_id and not may_manage(runtime, added_by, topic(runtime, topic_key)):
        log.warning("Refused adding %s to %s by %s, not a manager", user_id, topic_key, added_by)
        return Outcome.NOT_ALLOWED
    with runtime.store.session() as session:
        joined = rows.join(
            session,
            team_id=runtime.team_id,
            topic=topic_key,
            user_id=user_id,
            added_by=added_by,
            at=runtime.clock.now(),
        )
    return Outcome.DONE if joined else Outcome.ALREADY


def waiting_for_experts(runtime: Runtime, topic_key: str) -> list[Routed]:
    """Unclaimed questions of a topic that nobody has been sent (no expert was available)."""
    with runtime.store.session() as session:
        found = [
            row
            for row in rows.routed_questions(
                session, team_id=runtime.team_id, statuses=(OPEN,), topic=topic_key
            )
            if not any(
                not post.notice
                for post in rows.posts(session, team_id=runtime.team_id, routed_id=_id(row))
            )
        ]
    return [view for view in map(lambda row: _view(runtime, row), found) if view is not None]


def leave(
    runtime: Runtime, *, topic_key: str, user_id: str, removed_by: str
) -> tuple[Outcome, list[Released]]:
    """Take someone out of a network: DONE, ALREADY (they were not in it), or NOT_ALLOWED
    (only the topic's managers and community managers take out someone else). Questions of
    that topic they claimed but did not answer go back to the network; questions sent only to
    them by DM go to someone else."""
    if removed_by != user_id and not may_manage(runtime, removed_by, topic(runtime, topic_key)):
        log.warning(
            "Refused removing %s from %s by %s, not a manager", user_id, topic_key, removed_by
        )
        return Outcome.NOT_ALLOWED, []
    now = runtime.clock.now()
    with runtime.store.session() as session:
        left = rows.leave(session, team_id=runtime.team_id, topic=topic_key, user_id=user_id)
        affected: list[tuple[Any, bool]] = []
        for row in rows.routed_questions(
            session, team_id=runtime.team_id, statuses=(OPEN, CLAIMED), topic=topic_key
        ):
            routed_id = _id(row)
            if row.status == CLAIMED and row.claimed_by == user_id:
                rows.release(session, team_id=runtime.team_id, routed_id=routed_id, user_id=user_id)
                _step(runtime, session, routed_id, "released", now, user_id=user_id)
                affected.append((row, True))
            elif row.status == OPEN:
                recipients = {
                    post.recipient
                    for post in rows.posts(session, team_id=runtime.team_id, routed_id=routed_id)
                    if not post.notice
                }
                if user_id in recipients:
                    affected.append((row, False))
    released: list[Released] = []
    for row, was_claimed in affected:
        view = routed_question(runtime, _id(row))
        if view is None:
            continue
        new_experts: tuple[str, ...] = ()
        if view.topic.channel is None:
            asked = {
                post.recipient
                for post in posts(runtime, view.id)
                if post.recipient and _asked(post)
            }
            exclude = {view.asker, user_id} | asked
            new_experts = choose_experts(runtime, view.topic, exclude=exclude, count=1)
        released.append(Released(view, was_claimed, new_experts))
    return (Outcome.DONE if left else Outcome.ALREADY), released


def _row(runtime: Runtime, routed_id: int) -> Any:
    with runtime.store.session() as session:
        return rows.routed(session, team_id=runtime.team_id, routed_id=routed_id)


def away(runtime: Runtime) -> set[str]:
    """The experts who are marked away."""
    with runtime.store.session() as session:
        return set(rows.away(session, team_id=runtime.team_id))


def set_away(runtime: Runtime, *, user_id: str, away: bool) -> bool:
    with runtime.store.session() as session:
        return rows.set_away(
            session, team_id=runtime.team_id, user_id=user_id, away=away, at=runtime.clock.now()
        )


def profile(runtime: Runtime, user_id: str) -> ExpertProfile:
    with runtime.store.session() as session:
        keys = rows.memberships(session, team_id=runtime.team_id, user_id=user_id)
        away = user_id in rows.away(session, team_id=runtime.team_id)
        mine = rows.routed_questions(session, team_id=runtime.team_id, claimed_by=user_id)
    claimed = tuple(
        view
        for view in (_view(runtime, row) for row in mine if row.status == CLAIMED)
        if view is not None
    )
    answered = [row for row in mine if row.answered_by == user_id]
    return ExpertProfile(
        topics=tuple(t for key in keys if (t := topic(runtime, key)) is not None),
        away=away,
        claimed=claimed,
        answered=len(answered),
        resolved=sum(row.status == RESOLVED for row in answered),
        saved=sum(row.saved_slug is not None for row in answered),
    )


def choose_experts(
    runtime: Runtime, topic: Topic, *, exclude: set[str], count: int | None = None
) -> tuple[str, ...]:
    """Experts to DM, fairly: fewest questions waiting on them first, then whoever was sent
    one longest ago (so the work rotates); never the asker, nobody away."""
    with runtime.store.session() as session:
        away = rows.away(session, team_id=runtime.team_id)
        candidates = [
            member.user_id
            for member in rows.members(session, team_id=runtime.team_id, topic=topic.key)
            if member.user_id not in exclude and member.user_id not in away
        ]
        load = rows.expert_load(session, team_id=runtime.team_id, user_ids=candidates)
    never = datetime.min.replace(tzinfo=UTC)

    def fairness(user: str) -> tuple[int, datetime, str]:
        waiting, last_sent = load[user]
        return waiting, last_sent or never, user

    return tuple(sorted(candidates, key=fairness)[: count or topic.experts_per_question])


# --- routing ------------------------------------------------------------------------------


def prepare(runtime: Runtime, *, question_id: int, user_id: str) -> Preparation | Outcome | Routed:
    """The form for sending a logged question to the experts; an Outcome when it cannot be
    sent (GONE, NOT_YOURS), or the Routed question when it was sent already."""
    with runtime.store.session() as session:
        logged = question_rows.question(session, team_id=runtime.team_id, question_id=question_id)
        earlier = (
            rows.routed_from(session, team_id=runtime.team_id, question_id=question_id)
            if logged is not None
            else None
        )
    if logged is None:
        return Outcome.GONE
    if logged.user_id != user_id:
        log.warning("Refused question %s's form to %s, who did not ask it", question_id, user_id)
        return Outcome.NOT_YOURS
    if earlier is not None:
        view = _view(runtime, earlier)
        if view is not None:
            return view
    slugs = [(hit["slug"], float(hit["score"])) for hit in logged.hits]
    return Preparation(
        question_id=question_id,
        question=logged.question,
        topics=tuple(topics(runtime)),
        suggested=suggest_topic(runtime, logged.question, slugs),
    )


def send(
    runtime: Runtime, *, question_id: int, user_id: str, topic_key: str, question: str
) -> Sent | Outcome | Routed:
    """Send the question to the topic's network: its channel, or DMs to experts chosen
    fairly. Returns who to post to (the caller posts, then `record_posts`)."""
    chosen = topic(runtime, topic_key)
    now = runtime.clock.now()
    with runtime.store.session() as session:
        logged = question_rows.question(session, team_id=runtime.team_id, question_id=question_id)
        if logged is None or chosen is None:
            return Outcome.GONE
        if logged.user_id != user_id:
            log.warning(
                "Refused to send question %s for %s, who did not ask it", question_id, user_id
            )
            return Outcome.NOT_YOURS
        earlier = rows.routed_from(session, team_id=runtime.team_id, question_id=question_id)
        if earlier is not None:
            return _view(runtime, earlier) or Outcome.GONE
        row = rows.route(
            session,
            team_id=runtime.team_id,
            question_id=question_id,
            topic=chosen.key,
            asker_id=user_id,
            question=question,
            at=now,
        )
        routed_id = _id(row)
        for kind, at in (("asked", logged.asked_at), ("routed", now)):
            _step(
                runtime, session, routed_id, kind, at, user_id=user_id, detail={"topic": chosen.key}
            )
        question_rows.settle_question(
            session, team_id=runtime.team_id, question_id=question_id, outcome="routed", at=now
        )
    view = _view(runtime, row)
    assert view is not None
    _waiting_changed(runtime, view)
    if chosen.channel:
        return Sent(view, chosen.channel, ())
    return _dm_plan(runtime, view)


def _dm_plan(runtime: Runtime, view: Routed) -> Sent:
    chosen = choose_experts(runtime, view.topic, exclude={view.asker})
    if chosen:
        return Sent(view, None, chosen)
    anyone = set(experts(runtime, view.topic.key)) - {view.asker}
    return Sent(view, None, (), nobody="all away" if anyone else "no experts")


def without_channel(runtime: Runtime, routed_id: int) -> Sent | None:
    """The DM plan for a question whose topic channel could not be posted in."""
    view = routed_question(runtime, routed_id)
    return _dm_plan(runtime, view) if view is not None else None


def _asked(post: Post) -> bool:
    """Whether the post sent the question to one expert by DM (not the channel, no notice)."""
    return post.recipient is not None and not post.notice


def record_posts(runtime: Runtime, routed_id: int, sent: Iterable[Post]) -> None:
    """Remember where a question was posted: every message that invites an answer in its
    thread is recorded, so that a reply there reaches the question. An expert it was sent
    to by DM may now claim it, so their Home tab (which offers it) changes."""
    now = runtime.clock.now()
    recipients: list[str] = []
    with runtime.store.session() as session:
        for post in sent:
            rows.add_post(
                session,
                team_id=runtime.team_id,
                routed_id=routed_id,
                channel=post.channel,
                ts=post.ts,
                recipient=post.recipient,
                at=now,
                notice=post.notice,
            )
            if _asked(post) and post.recipient is not None:
                recipients.append(post.recipient)
    if recipients:
        runtime.notify(HomeChanged(users=tuple(dict.fromkeys(recipients))))


#: Kinds of action posts: a draft's review card (about the draft); about a routed question:
#: a prompt to save its answer, the answer in the asker's DM (which offers Save once
#: resolved), a manager's alert (which offers Claim).
REVIEW_CARD, SAVE_PROMPT, ASKER_ANSWER, MANAGER_ALERT = "review", "save", "answer", "alert"


def record_action_posts(runtime: Runtime, kind: str, about: int, sent: Iterable[Post]) -> None:
    """Remember the messages whose buttons act on `about` (a draft for REVIEW_CARD, a routed
    question for the other kinds): when the action is done, by anyone, every one of them is
    redrawn without them."""
    now = runtime.clock.now()
    with runtime.store.session() as session:
        for post in sent:
            rows.add_action_post(
                session,
                team_id=runtime.team_id,
                kind=kind,
                about=about,
                channel=post.channel,
                ts=post.ts,
                at=now,
            )


def action_posts(runtime: Runtime, kind: str, about: int, *, forget: bool = False) -> list[Post]:
    """The messages recorded by `record_action_posts` for (`kind`, `about`). `forget` when
    the action is done for good: they are handed over once, for their last redraw."""
    with runtime.store.session() as session:
        found = rows.action_posts(
            session, team_id=runtime.team_id, kind=kind, about=about, forget=forget
        )
    return [Post(channel, ts, None) for channel, ts in found]


def posts(runtime: Runtime, routed_id: int) -> list[Post]:
    with runtime.store.session() as session:
        found = rows.posts(session, team_id=runtime.team_id, routed_id=routed_id)
    return [Post(post.channel, post.ts, post.recipient, post.notice) for post in found]


def routed_question(runtime: Runtime, routed_id: int) -> Routed | None:
    return _view(runtime, _row(runtime, routed_id))


def routed_in_thread(
    runtime: Runtime, *, channel: str, thread_ts: str
) -> tuple[Routed, Post] | None:
    """The routed question (and its post) whose thread a message was written in."""
    with runtime.store.session() as session:
        post = rows.post_at(session, team_id=runtime.team_id, channel=channel, ts=thread_ts)
        row = (
            rows.routed(session, team_id=runtime.team_id, routed_id=post.routed_id)
            if post is not None
            else None
        )
    view = _view(runtime, row)
    if view is None or post is None:
        return None
    return view, Post(post.channel, post.ts, post.recipient, post.notice)


def open_questions(runtime: Runtime, topic_key: str | None = None) -> list[Routed]:
    with runtime.store.session() as session:
        found = rows.routed_questions(
            session, team_id=runtime.team_id, statuses=(OPEN, CLAIMED), topic=topic_key
        )
    return [view for row in found if (view := _view(runtime, row)) is not None]


# --- claim, answer, resolve ---------------------------------------------------------------


def claim(runtime: Runtime, *, routed_id: int, user_id: str) -> tuple[Outcome, Routed | None]:
    """Claim a question; when two people press at once, exactly one wins."""
    now = runtime.clock.now()
    with runtime.store.session() as session:
        row = rows.routed(session, team_id=runtime.team_id, routed_id=routed_id)
        if row is None or row.status == WITHDRAWN:
            return Outcome.GONE, None
        if row.asker_id == user_id:
            return Outcome.NOT_YOURS, _view(runtime, row)
        if not _may_take(runtime, session, row, user_id):
            log.warning(
                "Refused a claim of question %s by %s, not one it was sent to", routed_id, user_id
            )
            return Outcome.NOT_ALLOWED, None
        won = rows.claim(
            session, team_id=runtime.team_id, routed_id=routed_id, user_id=user_id, at=now
        )
        if won:
            _step(runtime, session, routed_id, "claimed", now, user_id=user_id)
    current = routed_question(runtime, routed_id)
    if won and current is not None:
        _waiting_changed(runtime, current)
    if won:
        return Outcome.DONE, current
    if current is not None and current.claimed_by == user_id:
        return Outcome.ALREADY, current
    return Outcome.TAKEN, current


def answer(
    runtime: Runtime, *, routed_id: int, user_id: str, text: str
) -> tuple[Outcome, Routed | None]:
    """Record the answer (claiming the question if nobody had). After the first answer, the
    answerer's further words are follow-ups: kept as part of the answer, in order (the
    asker sees the whole answer, and the "Save to knowledge index" form starts from it), and
    ALREADY, so that the caller passes them on."""
    now = runtime.clock.now()
    with runtime.store.session() as session:
        row = rows.routed(session, team_id=runtime.team_id, routed_id=routed_id)
        if row is None or row.status == WITHDRAWN:
            return Outcome.GONE, None
        if row.asker_id == user_id:
            return Outcome.NOT_YOURS, _view(runtime, row)
        if not _may_take(runtime, session, row, user_id):
            log.warning(
                "Refused an answer to question %s by %s, not one it was sent to", routed_id, user_id
            )
            return Outcome.NOT_ALLOWED, None
        # Read before the UPDATE: the session refreshes `row` with what the UPDATE wrote.
        unclaimed = row.status == OPEN
        won = rows.answer(
            session,
            team_id=runtime.team_id,
            routed_id=routed_id,
            user_id=user_id,
            text=text,
            at=now,
        )
        if won:
            if unclaimed:
                _step(runtime, session, routed_id, "claimed", now, user_id=user_id)
            _step(runtime, session, routed_id, "answered", now, user_id=user_id)
        else:
            rows.add_to_answer(
                session, team_id=runtime.team_id, routed_id=routed_id, user_id=user_id, text=text
            )
    current = routed_question(runtime, routed_id)
    if won:
        badges.recognise(runtime, user_id, badges.EXPERT_ANSWERS)
        if current is not None:
            _waiting_changed(runtime, current)
        return Outcome.DONE, current
    if current is not None and current.answered_by == user_id:
        return Outcome.ALREADY, current
    return Outcome.TAKEN, current


def resolve(runtime: Runtime, *, routed_id: int, user_id: str) -> tuple[Outcome, Routed | None]:
    """The asker marks the answer as resolving their question."""
    now = runtime.clock.now()
    with runtime.store.session() as session:
        row = rows.routed(session, team_id=runtime.team_id, routed_id=routed_id)
        if row is None:
            return Outcome.GONE, None
        if row.asker_id != user_id:
            log.warning(
                "Refused to resolve question %s for %s, who did not ask it", routed_id, user_id
            )
            return Outcome.NOT_YOURS, None
        won = rows.resolve(session, team_id=runtime.team_id, routed_id=routed_id, at=now)
        if won:
            _step(
                runtime,
                session,
                routed_id,
                "resolved",
                now,
                user_id=user_id,
                detail={"credit": row.answered_by},
            )
    current = routed_question(runtime, routed_id)
    if won:
        return Outcome.DONE, current
    return (Outcome.ALREADY if current and current.status == RESOLVED else Outcome.GONE), current


def answerable(runtime: Runtime, *, routed_id: int, user_id: str) -> tuple[Outcome, Routed | None]:
    """Whether `user_id` may open the answer form now: DONE, or TAKEN (somebody else has
    it), NOT_YOURS (they asked it), NOT_ALLOWED (it was not sent to them), GONE."""
    with runtime.store.session() as session:
        row = rows.routed(session, team_id=runtime.team_id, routed_id=routed_id)
        current = _view(runtime, row)
        if row is None or current is None or row.status == WITHDRAWN:
            return Outcome.GONE, None
        if row.asker_id == user_id:
            return Outcome.NOT_YOURS, current
        if not _may_take(runtime, session, row, user_id):
            log.warning("Refused the answer form of question %s to %s", routed_id, user_id)
            return Outcome.NOT_ALLOWED, None
    if current.status != OPEN and current.claimed_by != user_id:
        return Outcome.TAKEN, current
    return Outcome.DONE, current


def not_yet(runtime: Runtime, *, routed_id: int, user_id: str) -> tuple[Outcome, Routed | None]:
    """The asker says the answer does not resolve their question yet (the caller tells the
    expert): DONE, NOT_YOURS for anyone else, GONE when it is not waiting for them."""
    current = routed_question(runtime, routed_id)
    if current is None:
        return Outcome.GONE, None
    if current.asker != user_id:
        log.warning(
            "Refused 'not yet' on question %s from %s, who did not ask it", routed_id, user_id
        )
        return Outcome.NOT_YOURS, None
    if current.status != ANSWERED:
        return Outcome.GONE, current
    return Outcome.DONE, current


def offered_to(runtime: Runtime, user_id: str, topic_keys: Iterable[str]) -> list[Routed]:
    """The open questions of these topics that `user_id` may claim (never their own)."""
    wanted = set(topic_keys)
    with runtime.store.session() as session:
        found = [
            row
            for row in rows.routed_questions(session, team_id=runtime.team_id, statuses=(OPEN,))
            if row.topic in wanted
            and row.asker_id != user_id
            and _may_take(runtime, session, row, user_id)
        ]
    return [view for row in found if (view := _view(runtime, row)) is not None]


def _may_take(runtime: Runtime, session: Session, row: Any, user_id: str) -> bool:
    """Whether `user_id` (not the asker) may claim or answer a routed question: see the
    module's docstring. Who holds it may go on; a question posted in its network's channel
    is anyone's to take; one sent by DM is for the experts it was sent to, while they are in
    the network, and for the topic's managers and community managers."""
    if user_id in (row.claimed_by, row.answered_by):
        return True
    sent = [
        post
        for post in rows.posts(session, team_id=runtime.team_id, routed_id=_id(row))
        if not post.notice
    ]
    if any(post.recipient is None for post in sent):
        return True
    if may_manage(runtime, user_id, topic(runtime, row.topic)):
        return True
    return user_id in {post.recipient for post in sent} and row.topic in rows.memberships(
        session, team_id=runtime.team_id, user_id=user_id
    )


# --- escalation ---------------------------------------------------------------------------


def escalate(runtime: Runtime, now: datetime) -> list[Escalation]:
    """Fire every escalation tier that has come due for an unclaimed question, once: the
    tier is taken with a conditional update, so of several instances (or a run repeated
    after a restart) exactly one fires it. Each notice goes to `runtime.notify`."""
    fired: list[Escalation] = []
    with runtime.store.session() as session:
        waiting = rows.routed_questions(session, team_id=runtime.team_id, statuses=(OPEN,))
    for row in waiting:
        view = _view(runtime, row)
        if view is None:
            continue
        due = [
            number
            for number, tier in enumerate(view.topic.escalation, start=1)
            if number > row.escalation_tier and row.routed_at + tier.after <= now
        ]
        if not due:
            continue
        with runtime.store.session() as session:
            won = rows.escalate(
                session,
                team_id=runtime.team_id,
                routed_id=view.id,
                after_tier=row.escalation_tier,
                to_tier=max(due),
            )
            if won:
                for number in due:
                    tier = view.topic.escalation[number - 1]
                    _step(
                        runtime,
                        session,
                        view.id,
                        "escalated",
                        now,
                        detail={"tier": number, "notify": tier.notify},
                    )
        if won:
            fired += [_escalation(runtime, view, number) for number in due]
    for notice in fired:
        runtime.notify(notice)
    return fired


def _escalation(runtime: Runtime, view: Routed, number: int) -> Escalation:
    tier: EscalationTier = view.topic.escalation[number - 1]
    if tier.notify == NOTIFY_MANAGERS:
        return Escalation(view, number, tier.notify, managers=managers_of(runtime, view.topic))
    new_experts: tuple[str, ...] = ()
    if tier.notify == NOTIFY_NETWORK and view.topic.channel is None:
        asked = {
            post.recipient for post in posts(runtime, view.id) if post.recipient and _asked(post)
        }
        new_experts = choose_experts(runtime, view.topic, exclude={view.asker} | asked)
    return Escalation(view, number, tier.notify, new_experts=new_experts)


# --- back into the index ------------------------------------------------------------------


def may_save(runtime: Runtime, routed: Routed, user_id: str) -> bool:
    """The expert who answered, the asker and managers may save a resolved answer."""
    return user_id in (routed.answered_by, routed.asker) or may_manage(
        runtime, user_id, routed.topic
    )


def savable(runtime: Runtime, *, routed_id: int, user_id: str) -> tuple[Outcome, Routed | None]:
    """Whether `user_id` may open the "Save to knowledge index" form: DONE, NOT_ALLOWED
    (neither the expert, the asker nor a manager), UNRESOLVED, or GONE."""
    current = routed_question(runtime, routed_id)
    if current is None:
        return Outcome.GONE, None
    if not may_save(runtime, current, user_id):
        log.warning("Refused to save question %s for %s", routed_id, user_id)
        return Outcome.NOT_ALLOWED, None
    if current.status != RESOLVED:
        return Outcome.UNRESOLVED, current
    return Outcome.DONE, current


def drafted(
    runtime: Runtime, session: Session, routed_id: int, *, user_id: str, draft_id: int, at: datetime
) -> None:
    """The question's answer was drafted into an entry for review (`bot.review.propose`), in
    the caller's unit of work: a step of its timeline."""
    _step(runtime, session, routed_id, "drafted", at, user_id=user_id, detail={"draft": draft_id})


def saved(
    runtime: Runtime,
    session: Session,
    routed_id: int,
    *,
    slug: str,
    reviewer: str,
    credit: str | None,
    at: datetime,
) -> None:
    """A reviewer approved the entry drafted from the question's answer (`bot.review.review`),
    in the caller's unit of work: the question remembers its entry, and its timeline says so."""
    rows.mark_saved(session, team_id=runtime.team_id, routed_id=routed_id, slug=slug)
    _step(
        runtime,
        session,
        routed_id,
        "saved",
        at,
        user_id=reviewer,
        detail={"slug": slug, "credit": credit},
    )


# --- records ------------------------------------------------------------------------------


def timeline(runtime: Runtime, routed_id: int) -> list[tuple[str, datetime, str | None]]:
    """(kind, when, who) for every step of a routed question, in order."""
    with runtime.store.session() as session:
        found = rows.steps(session, team_id=runtime.team_id, routed_id=routed_id)
    return [(step.kind, step.at, step.user_id) for step in found]


def response_times(store: Store, team_id: str) -> list[TopicTimes]:
    """Per topic: how many questions were routed, answered and resolved, and the median
    time from routing to the first response (a claim or an answer) and to resolution."""
    with store.session() as session:
        found = rows.routed_questions(session, team_id=team_id)
    by_topic: dict[str, list[Any]] = {}
    for row in found:
        by_topic.setdefault(row.topic, []).append(row)
    report = []
    for key in sorted(by_topic):
        asked = by_topic[key]
        first = [
            min(t for t in (row.claimed_at, row.answered_at) if t is not None) - row.routed_at
            for row in asked
            if row.claimed_at or row.answered_at
        ]
        resolved = [row.resolved_at - row.routed_at for row in asked if row.resolved_at]
        report.append(
            TopicTimes(
                topic=key,
                asked=len(asked),
                answered=sum(row.answered_at is not None for row in asked),
                resolved=len(resolved),
                first_response=_median(first),
                resolution=_median(resolved),
            )
        )
    return report


@dataclass(frozen=True)
class TopicSummary:
    """A network as the managers' console shows it."""

    topic: Topic
    experts: tuple[str, ...]
    #: Waiting for an expert (unclaimed), and claimed but not yet answered.
    open: int
    claimed: int
    #: Of those, waiting longer than the topic's first escalation step.
    overdue: int
    first_response: timedelta | None


def summaries(runtime: Runtime, *, now: datetime) -> list[TopicSummary]:
    """Every topic with its experts, its unanswered questions and how fast it responds."""
    times = {found.topic: found for found in response_times(runtime.store, runtime.team_id)}
    with runtime.store.session() as session:
        members = rows.members(session, team_id=runtime.team_id)
        waiting = rows.routed_questions(session, team_id=runtime.team_id, statuses=(OPEN, CLAIMED))
    report = []
    for known in topics(runtime):
        mine = [row for row in waiting if row.topic == known.key]
        patience = known.escalation[0].after if known.escalation else timedelta(hours=2)
        report.append(
            TopicSummary(
                topic=known,
                experts=tuple(m.user_id for m in members if m.topic == known.key),
                open=sum(row.status == OPEN for row in mine),
                claimed=sum(row.status == CLAIMED for row in mine),
                overdue=sum(now - row.routed_at > patience for row in mine),
                first_response=times[known.key].first_response if known.key in times else None,
            )
        )
    return report


def response_report(store: Store) -> dict[str, list[TopicTimes]]:
    """`response_times` for every workspace with routed questions (the CLI's report)."""
    with store.session() as session:
        workspaces = rows.teams(session)
    return {team: response_times(store, team) for team in workspaces}


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(value.total_seconds() for value in values))


# --- plumbing -----------------------------------------------------------------------------


def _waiting_changed(runtime: Runtime, routed: Routed) -> None:
    """The question appeared in, or left, its experts' lists of waiting questions (and the
    managers' view of open questions)."""
    people = (*experts(runtime, routed.topic.key), routed.asker)
    runtime.notify(HomeChanged(users=tuple(dict.fromkeys(people)), managers=True))


def _step(
    runtime: Runtime,
    session: Session,
    routed_id: int,
    kind: str,
    at: datetime,
    *,
    user_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add a step to a routed question's timeline, in the caller's unit of work."""
    rows.add_step(
        session,
        team_id=runtime.team_id,
        routed_id=routed_id,
        kind=kind,
        at=at,
        user_id=user_id,
        detail=detail,
    )


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)


def _view(runtime: Runtime, row: Any) -> Routed | None:
    """A routed row as the domain sees it (None when gone or its topic no longer exists)."""
    if row is None:
        return None
    chosen = topic(runtime, row.topic)
    if chosen is None:
        return None
    return Routed(
        id=_id(row),
        topic=chosen,
        asker=row.asker_id,
        question=row.question,
        status=row.status,
        routed_at=row.routed_at,
        question_id=row.question_id,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        answered_by=row.answered_by,
        answer=row.answer,
        saved_slug=row.saved_slug,
        escalation_tier=row.escalation_tier,
    )
