"""App Home: what a member's Home tab shows, and which page of the console it was on.

A member sees their own learning at a glance (points and badges, paths and streak, the
questions waiting for them as an expert, a few entries picked for them); community managers
also get the console's tabs. Everything here is read from the other capabilities; this module
decides what is worth showing and remembers each reader's tab, pages and period (in the
database, so another instance redraws the same page).

    shown = member_home(runtime, "U0SAM0002", now=clock.now())
    state = state_of(runtime, "U0ALEX001")              # HomeState(tab="queue", …)
    remember(runtime, "U0ALEX001", state.turn("queue", +1))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot import analytics, badges, lessons, networks
from bot.content.entries import KnowledgeEntry
from bot.content.lesson_paths import LearningPath, Lesson
from bot.content.networks import Topic
from bot.runtime import Runtime
from store import home as rows
from store import knowledge as question_rows

log = logging.getLogger(__name__)

MEMBER_TAB = "me"
#: The console's tabs, in the order they are shown.
CONSOLE_TABS = (
    "queue",
    "gaps",
    "experts",
    "channels",
    "schedules",
    "assigned",
    "analytics",
    "learning",
)
#: Entries recommended at most.
RECOMMENDATIONS = 5
#: Questions waiting for an expert, shown at most (the rest: `/experts me`).
WAITING_SHOWN = 5
#: A Home tab shown this recently is redrawn when what it shows changes.
READER_WINDOW = timedelta(days=1)
#: A member's questions that recommendations are drawn from.
RECENT_QUESTIONS = 20


@dataclass(frozen=True)
class HomeState:
    """Where a reader is: the tab, the page of each list, the analytics period, the learning
    report's path and team, and what Eddy last told them there (kept on top through redraws
    until they move on)."""

    tab: str = MEMBER_TAB
    pages: dict[str, int] = field(default_factory=dict)
    days: int = 30
    notice: str | None = None
    #: The learning report's choice: {"path": path id, "team": a Team as it stores itself}.
    report: dict[str, Any] = field(default_factory=dict)

    def page(self, section: str) -> int:
        return self.pages.get(section, 0)

    def turn(self, section: str, page: int) -> HomeState:
        return replace(self, pages={**self.pages, section: max(0, page)}, notice=None)

    def on_tab(self, tab: str) -> HomeState:
        return replace(self, tab=tab, notice=None)

    def over(self, days: int) -> HomeState:
        return replace(self, days=days, notice=None)

    def telling(self, notice: str | None) -> HomeState:
        return replace(self, notice=notice)

    def reporting(self, **choice: Any) -> HomeState:
        """The learning report with `path` and/or `team` chosen (None: everyone)."""
        return replace(self, report={**self.report, **choice}, notice=None)

    def stored(self) -> dict[str, Any]:
        return {
            "tab": self.tab,
            "pages": self.pages,
            "days": self.days,
            "notice": self.notice,
            "report": self.report,
        }


@dataclass(frozen=True)
class Recommendation:
    entry: KnowledgeEntry
    #: Why this one, in a few words ("you asked about …", "your path …", "your network …").
    because: str


@dataclass(frozen=True)
class MemberHome:
    standing: badges.Standing | None
    progress: lessons.Progress
    next_lesson: tuple[LearningPath, Lesson] | None
    #: Paths this person is not on (never started, or stopped), to start from the Home tab.
    other_paths: tuple[LearningPath, ...]
    expert_topics: tuple[Topic, ...]
    away: bool
    #: Open questions in their networks they did not ask, and those they claimed.
    waiting: tuple[networks.Routed, ...]
    waiting_total: int
    recommended: tuple[Recommendation, ...]


def member_home(runtime: Runtime, user_id: str, *, now: datetime) -> MemberHome:
    try:
        standing: badges.Standing | None = badges.standing(runtime, user_id)
    except Exception:
        log.exception("Could not read the points of %s for their Home tab", user_id)
        standing = None
    progress = lessons.progress(runtime, user_id, now=now)
    # Stopped (or met only in a channel) paths are offered again: starting one resumes it.
    started = {
        shown.path.id for shown in progress.paths if shown.active or shown.completed_at is not None
    }
    profile = networks.profile(runtime, user_id)
    waiting = list(profile.claimed)
    waiting += networks.offered_to(runtime, user_id, (topic.key for topic in profile.topics))
    return MemberHome(
        standing=standing,
        progress=progress,
        next_lesson=lessons.upcoming(runtime, user_id),
        other_paths=tuple(
            path for key, path in sorted(lessons.paths(runtime).items()) if key not in started
        ),
        expert_topics=profile.topics,
        away=profile.away,
        waiting=tuple(waiting[:WAITING_SHOWN]),
        waiting_total=len(waiting),
        recommended=tuple(recommend(runtime, user_id, progress, profile.topics)),
    )


def recommend(
    runtime: Runtime,
    user_id: str,
    progress: lessons.Progress,
    topics: tuple[Topic, ...],
) -> list[Recommendation]:
    """A few entries for this person, taking turns between what they asked lately, the
    paths they follow and the networks they are in; new members get the entries colleagues
    found most helpful."""
    with runtime.store.session() as session:
        asked = question_rows.questions_by(
            session, team_id=runtime.team_id, user_id=user_id, limit=RECENT_QUESTIONS
        )
        stored = question_rows.entries(session, team_id=runtime.team_id)
    # What answered them already is no news to them; a question Eddy could not answer has
    # only near-misses, which are no pick either.
    answered = {q.answered_slug for q in asked if q.answered_slug}
    answered |= {str(q.hits[0].get("slug", "")) for q in asked if q.confident and q.hits}
    sources: list[list[Recommendation]] = []
    from_questions = []
    for question in asked:
        if not question.confident:
            continue
        for hit in question.hits:
            entry = runtime.catalogue.get(str(hit.get("slug", "")))
            if entry is not None:
                quoted = question.question if len(question.question) <= 60 else ""
                because = f"you asked “{quoted}”" if quoted else "you asked about this lately"
                from_questions.append(Recommendation(entry, because))
    sources.append(from_questions)
    for shown in progress.paths if runtime.catalogue.ready else ():  # none while starting up
        words = f"{shown.path.title} {shown.path.description}"
        sources.append(
            [
                Recommendation(hit_entry, f"it goes with your path {shown.path.title}")
                for hit in runtime.catalogue.search(words, limit=3)
                if (hit_entry := runtime.catalogue.get(hit.slug)) is not None
            ]
        )
    newest = sorted(stored, key=lambda row: row.updated_at, reverse=True)
    for topic in topics:
        sources.append(
            [
                Recommendation(entry, f"it is new in {topic.name}, your network")
                for row in newest
                if row.topic == topic.key and (entry := runtime.catalogue.get(row.slug))
            ][:3]
        )
    popular = sorted(stored, key=lambda row: row.helpful_count, reverse=True)
    sources.append(
        [
            Recommendation(entry, "colleagues found it helpful")
            for row in popular
            if row.helpful_count > 0 and (entry := runtime.catalogue.get(row.slug))
        ][:RECOMMENDATIONS]
    )
    chosen: dict[str, Recommendation] = {}
    while len(chosen) < RECOMMENDATIONS and any(sources):
        for source in sources:
            while source:
                candidate = source.pop(0)
                slug = candidate.entry.slug
                if slug not in chosen and slug not in answered:
                    chosen[slug] = candidate
                    break
            if len(chosen) >= RECOMMENDATIONS:
                break
    return list(chosen.values())


# --- where each reader is -------------------------------------------------------------------


def state_of(runtime: Runtime, user_id: str) -> HomeState:
    with runtime.store.session() as session:
        stored = rows.state_of(session, team_id=runtime.team_id, user_id=user_id)
    if not stored:
        return HomeState()
    days = stored.get("days")
    return HomeState(
        tab=str(stored.get("tab") or MEMBER_TAB),
        pages={str(k): int(v) for k, v in (stored.get("pages") or {}).items()},
        days=days if days in analytics.PERIODS else 30,
        notice=stored.get("notice") or None,
        report=report if isinstance(report := stored.get("report"), dict) else {},
    )


def remember(runtime: Runtime, user_id: str, state: HomeState) -> None:
    with runtime.store.session() as session:
        rows.save_state(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            state=state.stored(),
            at=runtime.clock.now(),
        )


def readers(runtime: Runtime, user_ids: tuple[str, ...], *, managers: bool) -> list[str]:
    """Whose Home tab to redraw: those of `user_ids` (and the community managers, if
    `managers`) who looked at it lately; the rest see it fresh when they next open it."""
    wanted = [*user_ids, *(runtime.settings.eddy_managers if managers else ())]
    if not wanted:
        return []
    with runtime.store.session() as session:
        return rows.readers(
            session,
            team_id=runtime.team_id,
            user_ids=wanted,
            since=runtime.clock.now() - READER_WINDOW,
        )
