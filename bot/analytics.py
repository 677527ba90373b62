"""Analytics for community managers: how Eddy is used, over the last 7, 30 or 90 days, with
a week-by-week trend (the App Home console shows them).

    numbers = report(runtime, days=30, now=runtime.clock.now())
    asked = numbers.figure("asked")
    asked.value     # questions asked in the last 30 days
    asked.weekly    # the same, week by week, oldest first (five weeks for 30 days)

Every figure covers the window [now - days, now). Its weekly trend is in whole weeks of seven
days, the last one ending at `now`, and never fewer than four, so that even the 7-day view
shows which way things are going; the first weeks may therefore start before the window does.

No Slack here: plain numbers in frozen dataclasses. Rates are between 0 and 1, durations in
seconds; None means there was nothing to measure (no ratings, no quiz answers, nothing
resolved), which is not the same as zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.runtime import Runtime
from store import analytics as rows
from store.analytics import Span

#: The periods the console offers, in days.
PERIODS = (7, 30, 90)
WEEK = timedelta(days=7)
#: The trend shows at least this many weeks, whatever the period.
MIN_WEEKS = 4

COUNT, RATE, DURATION = "count", "rate", "duration"


@dataclass(frozen=True)
class Figure:
    #: A stable id for code and tests: "asked", "helpful_rate", … (see `report`).
    key: str
    label: str
    #: The whole window's figure: a count, a rate from 0 to 1, or seconds; None: no data.
    value: float | None
    #: COUNT, RATE or DURATION.
    kind: str
    #: The figure for each week, oldest first (same kind as `value`).
    weekly: tuple[float | None, ...]


@dataclass(frozen=True)
class Analytics:
    days: int
    since: datetime
    until: datetime
    #: Where each week of the trend starts, oldest first; the last week ends at `until`.
    week_starts: tuple[datetime, ...]
    figures: tuple[Figure, ...]

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)


def week_starts(*, days: int, now: datetime) -> tuple[datetime, ...]:
    """The starts of the weeks the trend shows for a window of `days` ending at `now`."""
    weeks = max(MIN_WEEKS, math.ceil(days / 7))
    return tuple(now - WEEK * (weeks - index) for index in range(weeks))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _medians(
    times: Sequence[tuple[datetime, datetime]], spans: Sequence[Span]
) -> list[float | None]:
    """Per span: the median seconds from routed to resolved of the questions resolved in it."""
    medians: list[float | None] = []
    for start, end in spans:
        seconds = [
            (resolved - routed).total_seconds()
            for routed, resolved in times
            if start <= resolved < end
        ]
        medians.append(statistics.median(seconds) if seconds else None)
    return medians


def _figure(key: str, label: str, kind: str, values: Sequence[float | None]) -> Figure:
    """A figure from its values per span: the window's first, then each week's."""
    return Figure(key=key, label=label, value=values[0], kind=kind, weekly=tuple(values[1:]))


def report(runtime: Runtime, *, days: int, now: datetime) -> Analytics:
    """Every figure for the `days` before `now` (an aware datetime), with its weekly trend.

    Figures, in this order:

    - asked: questions asked (`/ask`, mentions, DMs, the Home tab);
    - confident: of those, how many the index answered without a human;
    - helpful_rate: of the answers people rated, the share rated helpful;
    - routed / resolved: questions sent to an expert network / resolved there;
    - resolution_median: median time from routing to resolution of those resolved;
    - lessons_delivered: lesson messages sent (to people and channels);
    - quiz_accuracy: the share of quiz answers that were right;
    - active_learners: different people who answered a quiz or completed a lesson;
    - points_given: points given by reactions (points taken back are not subtracted).
    """
    if days < 1:
        raise ValueError(f"a period is at least one day, not {days}")
    since = now - timedelta(days=days)
    starts = week_starts(days=days, now=now)
    spans: list[Span] = [(since, now), *((start, start + WEEK) for start in starts)]
    team = runtime.team_id
    with runtime.store.session() as session:
        questions = rows.question_counts(session, team_id=team, spans=spans)
        routing = rows.routing_counts(session, team_id=team, spans=spans)
        times = rows.resolution_times(session, team_id=team, spans=spans)
        delivered = rows.lessons_delivered(session, team_id=team, spans=spans)
        quizzes = rows.quiz_counts(session, team_id=team, spans=spans)
        learners = rows.active_learners(session, team_id=team, spans=spans)
        points = rows.points_given(session, team_id=team, spans=spans)
    figures = (
        _figure("asked", "Questions asked", COUNT, [each.asked for each in questions]),
        _figure("confident", "Answered from the index", COUNT, [q.confident for q in questions]),
        _figure(
            "helpful_rate",
            "Rated helpful",
            RATE,
            [_rate(q.helpful, q.helpful + q.not_helpful) for q in questions],
        ),
        _figure("routed", "Sent to experts", COUNT, [each.routed for each in routing]),
        _figure("resolved", "Resolved by experts", COUNT, [each.resolved for each in routing]),
        _figure("resolution_median", "Median time to resolution", DURATION, _medians(times, spans)),
        _figure("lessons_delivered", "Lessons delivered", COUNT, delivered),
        _figure(
            "quiz_accuracy",
            "Quiz answers right",
            RATE,
            [_rate(each.correct, each.answered) for each in quizzes],
        ),
        _figure("active_learners", "Active learners", COUNT, learners),
        _figure("points_given", "Points given", COUNT, points),
    )
    return Analytics(days=days, since=since, until=now, week_starts=starts, figures=figures)


#: How each kind of figure is written in a table, and the unit its column header names.
UNITS = {COUNT: "count", RATE: "share (0-1)", DURATION: "hours"}


def table(analytics: Analytics) -> tuple[list[str], list[list[str]]]:
    """The figures as a table for spreadsheets: a header, then one row per figure with its
    unit, the whole period, and each week (headed by the day it starts). Rates are shares
    from 0 to 1 and durations hours, so a spreadsheet can format them; no data is empty."""

    def cell(value: float | None, kind: str) -> str:
        if value is None:
            return ""
        if kind == DURATION:
            value /= 3600
        return f"{value:.4g}" if kind != COUNT else str(round(value))

    header = [
        "figure",
        "key",
        "unit",
        f"last {analytics.days} days",
        *(f"week of {start.date().isoformat()}" for start in analytics.week_starts),
    ]
    rows = [
        [
            figure.label,
            figure.key,
            UNITS[figure.kind],
            cell(figure.value, figure.kind),
            *(cell(value, figure.kind) for value in figure.weekly),
        ]
        for figure in analytics.figures
    ]
    return header, rows
