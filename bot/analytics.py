"""Analytics for community managers: how Eddy is used, over the last 7, 30 or 90 days, with
a trend (the App Home console shows them, `app.py export analytics` writes them as CSV).

    numbers = report(runtime, days=30, now=runtime.clock.now())
    asked = numbers.figure("asked")
    asked.value     # questions asked in the last 30 days
    asked.trend     # the same, week by week, oldest first (five weeks for 30 days)

Every figure covers the `days` up to and including `now`, and so does its trend, never more: a
7-day view is drawn day by day (seven days), longer ones week by week, the last week ending at
`now` and the first cut at the window's start (so it may be shorter than seven days). A trend
that reached back before the window would show weeks the figure does not count. What happened
at `now` itself counts: a question asked the instant before the manager opens the tab (or in
the sandbox, whose clock stands still, at the very same instant) is one they have seen happen.

Points are net, as `/badges` and `badges audit` count them: points taken back (a reaction
removed) are subtracted from the points given.

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
DAY = timedelta(days=1)
#: Windows up to this many days have a day-by-day trend; longer ones a week-by-week one.
DAILY_UP_TO = 7
#: The spans are half-open, [start, end); a window ends this long after `now`, so that what
#: happened at `now` is counted.
INSTANT = timedelta(microseconds=1)

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
    #: The figure for each step of the trend (a day or a week), oldest first (same kind as
    #: `value`).
    trend: tuple[float | None, ...]


@dataclass(frozen=True)
class Analytics:
    days: int
    since: datetime
    until: datetime
    #: Where each step of the trend starts, oldest first; the first is `since` and the last
    #: step ends at `until`.
    trend_starts: tuple[datetime, ...]
    #: "day" or "week": what one step of the trend is.
    step: str
    figures: tuple[Figure, ...]

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)


def trend_step(days: int) -> tuple[str, timedelta]:
    """What one step of the trend of a `days` window is: a day for short windows, else a week."""
    return ("day", DAY) if days <= DAILY_UP_TO else ("week", WEEK)


def trend_spans(*, days: int, now: datetime) -> list[Span]:
    """The steps of the trend for a window of `days` ending at `now`, oldest first: whole
    steps ending at `now`, the first cut at the window's start, none before it."""
    _, step = trend_step(days)
    since = now - timedelta(days=days)
    count = math.ceil(timedelta(days=days) / step)
    return [
        (max(since, now - step * (count - index)), now - step * (count - index - 1))
        for index in range(count)
    ]


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
    return Figure(key=key, label=label, value=values[0], kind=kind, trend=tuple(values[1:]))


def report(runtime: Runtime, *, days: int, now: datetime) -> Analytics:
    """Every figure for the `days` before `now` (an aware datetime), with its weekly trend.

    Figures, in this order:

    - asked: questions asked (`/ask`, mentions, DMs, the Home tab, help channels);
    - confident: of those, how many the index answered without a human;
    - helpful_rate: of the answers people rated, the share rated helpful;
    - answered_in_channels: of the questions, how many Eddy answered in a help channel's
      thread without being asked (`bot.listening`);
    - routed / resolved: questions sent to an expert network / resolved there;
    - resolution_median: median time from routing to resolution of those resolved;
    - lessons_delivered: lesson messages sent (to people and channels);
    - quiz_accuracy: the share of quiz answers that were right;
    - active_learners: different people who answered a quiz or completed a lesson;
    - points_given: points given by reactions, net of the points taken back (as the ledger,
      `/badges` and `badges audit` count them).
    """
    if days < 1:
        raise ValueError(f"a period is at least one day, not {days}")
    end = now + INSTANT
    since = end - timedelta(days=days)
    steps = trend_spans(days=days, now=end)
    spans: list[Span] = [(since, end), *steps]
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
        _figure(
            "answered_in_channels",
            "Answered in help channels",
            COUNT,
            [q.in_channels for q in questions],
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
    return Analytics(
        days=days,
        since=since,
        until=now,
        trend_starts=tuple(start for start, _ in steps),
        step=trend_step(days)[0],
        figures=figures,
    )


#: How each kind of figure is written in a table, and the unit its column header names.
UNITS = {COUNT: "count", RATE: "share (0-1)", DURATION: "hours"}


def table(analytics: Analytics) -> tuple[list[str], list[list[str]]]:
    """The figures as a table for spreadsheets: a header, then one row per figure with its
    unit, the whole period, and each step of the trend (headed by the day it starts). Rates
    are shares from 0 to 1 and durations hours, so a spreadsheet can format them; no data is
    empty."""

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
        *(f"{analytics.step} of {start.date().isoformat()}" for start in analytics.trend_starts),
    ]
    rows = [
        [
            figure.label,
            figure.key,
            UNITS[figure.kind],
            cell(figure.value, figure.kind),
            *(cell(value, figure.kind) for value in figure.trend),
        ]
        for figure in analytics.figures
    ]
    return header, rows
