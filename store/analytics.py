"""Read-only figures for the community managers' analytics: counts over the tables the other
capabilities write (questions, routed questions, lessons, quizzes, points), per span of time.

A large workspace logs hundreds of thousands of questions in a quarter, so nothing here brings
rows into Python to count them. Each function takes every span it is asked about at once (the
whole period and each of its weeks; half-open, [start, end), and they may overlap) and counts
with one query over only the rows between the earliest start and the latest end.

Counts add up, so the spans' edges cut time into segments, the database counts per segment
(`GROUP BY CASE WHEN t < edge1 THEN 0 WHEN t < edge2 THEN 1 … END`: one CASE per row), and each
span's figure is the sum of the segments it covers. A column of `SUM(CASE WHEN start <= t AND
t < end …)` per span and figure gives the same numbers but evaluates every CASE on every row:
on 500,000 questions over 90 days (14 spans) that was four times slower on SQLite and three
times slower on PostgreSQL. People active in a span are not a sum of the segments' (the
same person is active in several), so `active_learners` counts distinct people per span.

`resolution_times` is the exception: a median cannot be summed, so it returns the (routed,
resolved) instants of the questions resolved in the spans, which are few next to the questions
asked. Only Core constructs are used, so SQLite and PostgreSQL answer alike.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from store.badges import PointLedger
from store.knowledge import CHANNEL, HELD_BACK, QuestionLog
from store.lessons import SENT, LessonDelivery, LessonDone, QuizAnswer
from store.networks import RoutedQuestion

#: A half-open stretch of time, [start, end), with aware UTC datetimes.
Span = tuple[datetime, datetime]

HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"


@dataclass(frozen=True)
class QuestionCounts:
    """Questions asked in one span, and what became of them."""

    asked: int
    #: Answered from the index without a human (the search was confident).
    confident: int
    helpful: int
    not_helpful: int
    #: Answered by Eddy in a help channel's thread, where nobody had addressed it
    #: (surface "channel"; not those it held back at the channel's hourly limit).
    in_channels: int


@dataclass(frozen=True)
class RoutingCounts:
    """Questions sent to the experts in one span, and questions resolved in it (which may have
    been sent earlier)."""

    routed: int
    resolved: int


@dataclass(frozen=True)
class QuizCounts:
    answered: int
    correct: int


def _within(column: Any, span: Span) -> ColumnElement[bool]:
    start, end = span
    return and_(column >= start, column < end)


def _edges(spans: Sequence[Span]) -> list[datetime]:
    """Every start and end, in order: consecutive edges bound the segments."""
    return sorted({moment for span in spans for moment in span})


def _where_counted(at: Any, edges: Sequence[datetime]) -> ColumnElement[bool]:
    """Rows that can fall in some span (lets the database use the time column's index)."""
    return _within(at, (edges[0], edges[-1]))


def _if(condition: Any) -> Any:
    """How many of the rows meet `condition`."""
    return func.sum(case((condition, 1), else_=0))


def _sums_per_span(
    session: Session,
    *,
    at: Any,
    spans: Sequence[Span],
    where: Sequence[Any],
    sums: Sequence[Any],
) -> list[list[int]]:
    """For each span, the aggregates `sums` (`func.count()`, `_if(…)`) over the rows that meet
    `where` and whose time `at` lies in the span, in one grouped query."""
    edges = _edges(spans)
    # Segment i is [edges[i], edges[i + 1]); rows outside [first edge, last edge) are not read.
    segment = case(*((at < edge, index) for index, edge in enumerate(edges[1:]))).label("segment")
    query = select(segment, *sums).where(*where, _where_counted(at, edges)).group_by(segment)
    per_segment = [[0] * len(sums) for _ in edges[1:]]
    for index, *values in session.execute(query):
        per_segment[index] = [int(value) for value in values]
    totals = []
    for start, end in spans:
        covered = per_segment[bisect_left(edges, start) : bisect_left(edges, end)]
        totals.append([sum(figures) for figures in zip(*covered, strict=True)] or [0] * len(sums))
    return totals


def question_counts(
    session: Session, *, team_id: str, spans: Sequence[Span]
) -> list[QuestionCounts]:
    """Per span: questions asked, answered confidently, rated helpful or not helpful, and
    answered in help channels."""
    if not spans:
        return []
    outcome = col(QuestionLog.outcome)
    sums = _sums_per_span(
        session,
        at=col(QuestionLog.asked_at),
        spans=spans,
        where=[col(QuestionLog.team_id) == team_id],
        sums=[
            func.count(),
            _if(col(QuestionLog.confident).is_(True)),
            _if(outcome == HELPFUL),
            _if(outcome == NOT_HELPFUL),
            _if(
                and_(
                    col(QuestionLog.surface) == CHANNEL,
                    col(QuestionLog.confident).is_(True),
                    outcome != HELD_BACK,
                )
            ),
        ],
    )
    return [QuestionCounts(*figures) for figures in sums]


def routing_counts(session: Session, *, team_id: str, spans: Sequence[Span]) -> list[RoutingCounts]:
    """Per span: questions routed to a network, and routed questions resolved."""
    if not spans:
        return []
    team = [col(RoutedQuestion.team_id) == team_id]
    routed, resolved = (
        _sums_per_span(session, at=at, spans=spans, where=team, sums=[func.count()])
        for at in (col(RoutedQuestion.routed_at), col(RoutedQuestion.resolved_at))
    )
    return [RoutingCounts(r, s) for [r], [s] in zip(routed, resolved, strict=True)]


def resolution_times(
    session: Session, *, team_id: str, spans: Sequence[Span]
) -> list[tuple[datetime, datetime]]:
    """(routed_at, resolved_at) of every routed question resolved in any of the spans, in
    the order they were resolved."""
    if not spans:
        return []
    resolved_at = col(RoutedQuestion.resolved_at)
    query = (
        select(col(RoutedQuestion.routed_at), resolved_at)
        .where(col(RoutedQuestion.team_id) == team_id, _where_counted(resolved_at, _edges(spans)))
        .order_by(resolved_at)
    )
    return [(routed, resolved) for routed, resolved in session.execute(query)]


def lessons_delivered(session: Session, *, team_id: str, spans: Sequence[Span]) -> list[int]:
    """Per span: lesson messages sent (to people or channels)."""
    if not spans:
        return []
    sums = _sums_per_span(
        session,
        at=col(LessonDelivery.sent_at),
        spans=spans,
        where=[col(LessonDelivery.team_id) == team_id, col(LessonDelivery.status) == SENT],
        sums=[func.count()],
    )
    return [sent for [sent] in sums]


def quiz_counts(session: Session, *, team_id: str, spans: Sequence[Span]) -> list[QuizCounts]:
    """Per span: quiz answers given, and how many of them were right."""
    if not spans:
        return []
    sums = _sums_per_span(
        session,
        at=col(QuizAnswer.answered_at),
        spans=spans,
        where=[col(QuizAnswer.team_id) == team_id],
        sums=[func.count(), _if(col(QuizAnswer.correct).is_(True))],
    )
    return [QuizCounts(*figures) for figures in sums]


def active_learners(session: Session, *, team_id: str, spans: Sequence[Span]) -> list[int]:
    """Per span: how many different people answered a quiz or completed a lesson.

    Both kinds of activity are put in one list of (person, instant) rows; each span's figure is
    a `COUNT(DISTINCT CASE WHEN … THEN user_id END)` over it (rows outside the span give NULL,
    which the count skips), so a person active both ways, or many times, counts once."""
    if not spans:
        return []
    edges = _edges(spans)
    activity = union_all(
        select(col(QuizAnswer.user_id), col(QuizAnswer.answered_at).label("at")).where(
            col(QuizAnswer.team_id) == team_id, _where_counted(col(QuizAnswer.answered_at), edges)
        ),
        select(col(LessonDone.user_id), col(LessonDone.done_at).label("at")).where(
            col(LessonDone.team_id) == team_id, _where_counted(col(LessonDone.done_at), edges)
        ),
    ).subquery()
    query = select(
        *(
            func.count(distinct(case((_within(activity.c.at, span), activity.c.user_id))))
            for span in spans
        )
    )
    return [int(people) for people in session.execute(query).one()]


def points_given(session: Session, *, team_id: str, spans: Sequence[Span]) -> list[int]:
    """Per span: points given by reactions net of those taken back, by when each happened: the
    ledger's sum, as `/badges` and `badges audit` count it (a reaction added and removed
    gives nothing)."""
    if not spans:
        return []
    points = col(PointLedger.points)
    sums = _sums_per_span(
        session,
        at=col(PointLedger.at),
        spans=spans,
        where=[col(PointLedger.team_id) == team_id],
        sums=[func.sum(points)],
    )
    return [given for [given] in sums]
