"""Asking Eddy: the best entries for a question, honestly marked when Eddy is not sure, and
feedback that teaches the index. No Slack here: plain values in, plain results out.

    answer = ask(runtime, user_id="U1", channel_id="C1", surface="command",
                 question="how do i resset my vpn pasword")
    answer.entry            # the entry to show, or None when nothing is confident
    rate(runtime, question_id=answer.question_id, user_id="U1", helpful=True)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.content.entries import KnowledgeEntry
from bot.knowledge import Hit
from bot.runtime import Runtime
from store import knowledge as rows

log = logging.getLogger(__name__)

#: How many entries an answer shows besides the best one.
OTHER_CANDIDATES = 2
#: Below this `shared` score a hit has next to nothing in common with the question (gibberish
#: scores about 0.1, unrelated questions about the shipped content 0.2–0.3): it is not worth
#: showing, not even as "what came closest". A display choice, unlike the calibrated decision
#: of `confident` (bot/knowledge_confidence.py).
RELATED_SCORE = 0.35


@dataclass(frozen=True)
class Answer:
    question_id: int
    question: str
    asked_by: str
    #: The entry Eddy answers with; None when no hit was confident.
    entry: KnowledgeEntry | None
    #: The other candidates (or, when not confident, what came closest), best first.
    others: tuple[KnowledgeEntry, ...]

    @property
    def confident(self) -> bool:
        return self.entry is not None


class Rating(StrEnum):
    LEARNED = "learned"  # Helpful, and the asker's wording now leads to the entry
    THANKED = "thanked"  # Helpful; the wording was already known
    FLAGGED = "flagged"  # Not helpful: counted, and the entry is flagged for review
    NOT_YOURS = "not_yours"  # only the person who asked rates, shares or picks an answer
    ALREADY = "already"  # this answer was rated before
    GONE = "gone"  # the question or its entry no longer exists


def ask(
    runtime: Runtime,
    *,
    user_id: str,
    channel_id: str | None,
    surface: str,
    question: str,
    query: str | None = None,
) -> Answer:
    """Search the catalogue for `query` (default: the question) and log the question, as asked,
    with its hits and outcome."""
    catalogue = runtime.catalogue
    found = catalogue.search(
        query if query is not None else question, limit=OTHER_CANDIDATES + 1, user_id=user_id
    )
    hits = [hit for hit in found if hit.confident or hit.shared >= RELATED_SCORE]
    confident = bool(hits) and hits[0].confident
    entries = [entry for entry in (catalogue.get(hit.slug) for hit in hits) if entry is not None]
    best = entries[0] if confident and entries else None
    learned = catalogue.learned_by(hits[0], user_id) if best is not None else None
    question_id = _log(runtime, user_id, channel_id, surface, question, hits, best, learned)
    others = tuple(entries[1:] if best is not None else entries)
    limit = OTHER_CANDIDATES + (best is None)
    return Answer(question_id, question, user_id, best, others[:limit])


def _log(
    runtime: Runtime,
    user_id: str,
    channel_id: str | None,
    surface: str,
    question: str,
    hits: list[Hit],
    best: KnowledgeEntry | None,
    learned: str | None,
) -> int:
    """Log the question; the best hit notes the learned wording that brought it, if one did,
    so that Not helpful on the answer weakens that wording."""
    logged = [{"slug": hit.slug, "score": round(hit.score, 4)} for hit in hits]
    if learned is not None:
        logged[0]["learned"] = learned
    with runtime.store.session() as session:
        return rows.log_question(
            session,
            team_id=runtime.team_id,
            asked_at=runtime.clock.now(),
            user_id=user_id,
            channel_id=channel_id,
            surface=surface,
            question=question,
            hits=logged,
            answered_slug=best.slug if best else None,
        )


def recall(runtime: Runtime, *, question_id: int) -> Answer | None:
    """The answer a logged question got (to redraw it after a button press)."""
    with runtime.store.session() as session:
        logged = rows.question(session, team_id=runtime.team_id, question_id=question_id)
    if logged is None:
        return None
    return _answer_from_log(runtime, logged, logged.answered_slug)


def _answer_from_log(runtime: Runtime, logged: Any, slug: str | None) -> Answer | None:
    catalogue = runtime.catalogue
    entry = catalogue.get(slug) if slug else None
    if slug and entry is None:
        return None
    others = [catalogue.get(hit["slug"]) for hit in logged.hits if hit["slug"] != slug]
    found = tuple(other for other in others if other is not None)
    limit = OTHER_CANDIDATES if entry is not None else OTHER_CANDIDATES + 1
    return Answer(logged.id, logged.question, logged.user_id, entry, found[:limit])


#: Where the asker's answer was seen by others too (in the channel's thread of the mention);
#: everywhere else (an ephemeral /ask answer, a DM, the Home tab's search) only they saw it.
IN_THE_OPEN = "mention"


@dataclass(frozen=True)
class Shared:
    """An answer to post for everyone, in the conversation where it was asked."""

    answer: Answer
    channel: str


def share(runtime: Runtime, *, question_id: int, user_id: str) -> Shared | Rating:
    """The asker shares the answer to their `/ask` in the channel they asked in (never where
    the request says it came from); NOT_YOURS for anyone else, GONE when there is nothing to
    share."""
    with runtime.store.session() as session:
        logged = rows.question(session, team_id=runtime.team_id, question_id=question_id)
    if logged is None:
        return Rating.GONE
    if logged.user_id != user_id:
        log.warning("Refused to share question %s for %s, who did not ask it", question_id, user_id)
        return Rating.NOT_YOURS
    answer = _answer_from_log(runtime, logged, logged.answered_slug)
    if answer is None or answer.entry is None or not logged.channel_id:
        return Rating.GONE
    return Shared(answer, logged.channel_id)


def choose(runtime: Runtime, *, question_id: int, user_id: str, slug: str) -> Answer | Rating:
    """Someone picked another candidate: answer with it. When the asker picks it, it becomes
    the question's answer, and their rating applies to it. Only the candidates the question
    was shown can be picked (GONE otherwise, as when the entry was removed), and only the
    asker may pick one unless the answer was posted where others saw it (NOT_YOURS)."""
    with runtime.store.session() as session:
        logged = rows.question(session, team_id=runtime.team_id, question_id=question_id)
        if logged is None:
            return Rating.GONE
        if logged.user_id != user_id and logged.surface != IN_THE_OPEN:
            log.warning(
                "Refused question %s's candidates to %s, who did not ask it", question_id, user_id
            )
            return Rating.NOT_YOURS
        shown = {str(hit.get("slug")) for hit in logged.hits} | {logged.answered_slug}
        if slug not in shown or runtime.catalogue.get(slug) is None:
            return Rating.GONE
        if logged.user_id == user_id:
            rows.settle_question(
                session,
                team_id=runtime.team_id,
                question_id=question_id,
                outcome="answered",
                answered_slug=slug,
                at=runtime.clock.now(),
            )
    return _answer_from_log(runtime, logged, slug) or Rating.GONE


def rate(runtime: Runtime, *, question_id: int, user_id: str, helpful: bool) -> Rating:
    """Helpful teaches the index the asker's wording (for them at once, for everyone once it
    is corroborated); Not helpful counts and flags the entry, and weakens the learned wording
    that brought the answer, if one did."""
    now = runtime.clock.now()
    with runtime.store.session() as session:
        logged = rows.question(session, team_id=runtime.team_id, question_id=question_id)
        if logged is None:
            return Rating.GONE
        if logged.user_id != user_id:
            log.warning(
                "Refused a rating of question %s by %s, who did not ask it", question_id, user_id
            )
            return Rating.NOT_YOURS
        if logged.answered_slug is None:
            return Rating.GONE
        if logged.outcome in ("helpful", "not_helpful"):
            return Rating.ALREADY
        slug, question = logged.answered_slug, logged.question
        best = logged.hits[0] if logged.hits else {}
        learned = best.get("learned") if best.get("slug") == slug else None
        rows.settle_question(
            session,
            team_id=runtime.team_id,
            question_id=question_id,
            outcome="helpful" if helpful else "not_helpful",
            at=now,
        )
        rows.count_feedback(session, team_id=runtime.team_id, slug=slug, helpful=helpful, at=now)
    if not helpful:
        if isinstance(learned, str):
            runtime.catalogue.weaken(runtime, slug=slug, wording=learned)
        return Rating.FLAGGED
    learned = runtime.catalogue.learn(runtime, slug=slug, wording=question, user_id=user_id)
    return Rating.LEARNED if learned else Rating.THANKED
