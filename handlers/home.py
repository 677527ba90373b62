"""App Home: every member's learning at a glance, and the community managers' console.

The Home tab is drawn whenever someone opens it, and again (for whoever looked at it in the
last day) when something it shows changes: points, a lesson, a question waiting for them, the
review queue. Members see their own learning; community managers also get the console's
tabs — review queue, knowledge gaps, experts, schedules, analytics, learning reports — each
list a page at a time, so no tab comes near Slack's 100 blocks. A path's owners who are not
managers get the Learning tab alone, with their own paths' reports. What the buttons do lives
with each capability (handlers/review.py, networks.py, lessons.py); here is only what is drawn
and the navigation, and every console page is drawn only for a manager (the Learning tab also
for a path's owner), checked on each request.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from bot import (
    analytics,
    assignments,
    gaps,
    home,
    learning_reports,
    lesson_reminders,
    lessons,
    listening,
    networks,
    review,
)
from bot.home import CONSOLE_TABS, MEMBER_TAB, HomeState, MemberHome
from bot.runtime import HomeChanged, Runtime
from bot.text import plural
from handlers import ask, badges, people
from handlers import assignments as assignment_handlers
from handlers import learning_reports as report_handlers
from handlers import lesson_reminders as reminder_handlers
from handlers import lessons as lesson_handlers
from handlers import listening as listening_handlers
from handlers import networks as network_handlers
from handlers import review as review_handlers
from handlers.blocks import (
    HomeNotice,
    button,
    context,
    duration,
    escape,
    family,
    meter,
    numbered,
    section,
    shorten,
    trend,
    when,
)
from handlers.learning_reports import LEARNING_TAB, TeamLookUpError, team_members
from handlers.slash import MAX_TEXT
from handlers.values import action_value, presser, row_id, small_number

log = logging.getLogger(__name__)

COMMANDS = (ask.ASK, lesson_handlers.LEARN, network_handlers.EXPERTS, badges.BADGES)
TAB, PAGE, PERIOD = "home_tab", "home_page", "home_period"
SEARCH_BLOCK = "home_search"
NEXT_LESSON, START_PATH, CLAIM, READ = (
    "home_next_lesson",
    "home_start_path",
    "home_claim",
    "home_read",
)
TAB_NAMES = {
    MEMBER_TAB: "My learning",
    "queue": "Review queue",
    "gaps": "Knowledge gaps",
    "experts": "Experts",
    "channels": "Help channels",
    "schedules": "Schedules",
    "assigned": "Assigned",
    "analytics": "Analytics",
    LEARNING_TAB: "Learning",
}
#: Items per page of each console list (each item takes one to three blocks).
PAGE_SIZES = {
    "queue": 8,
    "gaps": 15,
    "experts": 10,
    "channels": 10,
    "schedules": 10,
    "assigned": 10,
}
#: Slack's limit for a Home tab.
HOME_BLOCK_LIMIT = 100
PATHS_SHOWN = 5
PATHS_OFFERED = 3
#: Further pages than any list has are clamped to its last page when drawn.
PAGE_LIMIT = 10**6
CONSOLE_ONLY = "Only community managers can see the console."


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """The Home tab's listeners; Home tabs are redrawn when what they show changes, and show
    notices."""
    app.event("app_home_opened")(on_home_opened)
    app.action(family(TAB))(on_tab)
    app.action(family(PAGE))(on_page)
    app.action(family(PERIOD))(on_period)
    app.action(report_handlers.REPORT_PATH)(on_report_path)
    app.action(report_handlers.REPORT_TEAM)(on_report_team)
    app.action(report_handlers.REPORT_EVERYONE)(on_report_everyone)
    app.action(NEXT_LESSON)(on_next_lesson)
    app.action(family(START_PATH))(on_start_path)
    app.action(CLAIM)(on_claim)
    app.action(READ)(on_read)
    redraw = Redrawer(runtime, client)
    runtime.listen(HomeChanged, redraw.changed)
    runtime.listen(HomeNotice, lambda notice: publish(runtime, client, notice.user, notice.text))


class Redrawer:
    """Redraws the Home tabs of the people a change concerns, each once however many
    changes arrive while a redraw is waiting (a burst of reactions is one redraw)."""

    def __init__(self, runtime: Runtime, client: WebClient) -> None:
        self.runtime, self.client = runtime, client
        self._waiting: set[str] = set()
        self._lock = threading.Lock()

    def changed(self, notice: HomeChanged) -> None:
        for user in home.readers(self.runtime, notice.users, managers=notice.managers):
            with self._lock:
                if user in self._waiting:
                    continue
                self._waiting.add(user)
            self.runtime.work.submit(self._redraw, user)

    def _redraw(self, user: str) -> None:
        with self._lock:
            self._waiting.discard(user)
        try:
            publish(self.runtime, self.client, user)
        except (SlackApiError, OSError):
            log.warning("Could not redraw the Home tab of %s", user, exc_info=True)


# --- drawing -----------------------------------------------------------------------------------


def publish(
    runtime: Runtime,
    client: WebClient,
    user: str,
    notice: str | None = None,
    change: Callable[[HomeState], HomeState] | None = None,
) -> None:
    """Draw `user`'s Home tab as it stands (on the tab and pages they were on, after
    `change`), with `notice` on top when Eddy has something to tell them.

    One drawing per person at a time: a redraw after some change and the answer to what they
    pressed cannot interleave, so the answer's notice is never drawn over."""
    with _drawing(user):
        state = home.state_of(runtime, user)
        state = change(state) if change is not None else state
        if notice is not None:
            state = state.telling(notice)
        manager = runtime.is_manager(user)
        owner = not manager and reports_for(runtime, user)
        if not manager and state.tab != MEMBER_TAB and not (owner and state.tab == LEARNING_TAB):
            state = HomeState(notice=state.notice)
        home.remember(runtime, user, state)
        view = home_view(runtime, user, state, manager, owner=owner)
        client.views_publish(user_id=user, view=view)


def reports_for(runtime: Runtime, user: str) -> bool:
    """Whether `user` may see some path's learning report (a manager, or a path's owner)."""
    return bool(learning_reports.reportable_paths(runtime, user))


_drawing_locks: dict[str, threading.Lock] = {}
_drawing_guard = threading.Lock()


def _drawing(user: str) -> threading.Lock:
    with _drawing_guard:
        return _drawing_locks.setdefault(user, threading.Lock())


def home_view(
    runtime: Runtime, user: str, state: HomeState, manager: bool, *, owner: bool = False
) -> View:
    """The Home tab: a member's own learning; a manager's console; for a path's owner who is
    no manager, their own learning and the Learning tab."""
    blocks: list[Block] = [HeaderBlock(text="Eddy")]
    if state.notice:
        blocks.append(section(f":information_source: {state.notice}"))
    if manager:
        blocks.append(tab_bar(runtime, state.tab))
    elif owner:
        blocks.append(tab_bar(runtime, state.tab, tabs=(MEMBER_TAB, LEARNING_TAB)))
    if state.tab == LEARNING_TAB and (manager or owner):
        blocks += report_handlers.report_blocks(runtime, user, state)
    elif state.tab == MEMBER_TAB or not manager:
        blocks += member_blocks(runtime, user)
    else:
        blocks += CONSOLE[state.tab](runtime, state)
    return View(type="home", blocks=within_limit(blocks))


def within_limit(blocks: list[Block]) -> list[Block]:
    """A last guard (pages are sized to stay far below): never more blocks than Slack takes."""
    if len(blocks) <= HOME_BLOCK_LIMIT:
        return blocks
    log.error("A Home tab came to %d blocks; showing the first %d", len(blocks), HOME_BLOCK_LIMIT)
    return [*blocks[: HOME_BLOCK_LIMIT - 1], context("…and more than fits here.")]


def tab_bar(
    runtime: Runtime, current: str, tabs: Sequence[str] = (MEMBER_TAB, *CONSOLE_TABS)
) -> ActionsBlock:
    waiting = len(review.queue(runtime, now=runtime.clock.now())) if "queue" in tabs else 0
    buttons = []
    for index, tab in enumerate(tabs):
        label = TAB_NAMES[tab] + (f" ({waiting})" if tab == "queue" and waiting else "")
        style = "primary" if tab == current else None
        buttons.append(button(label, numbered(TAB, index), tab, style))
    return ActionsBlock(block_id="home_tabs", elements=buttons)


def search_box() -> list[Block]:
    return [
        InputBlock(
            block_id=SEARCH_BLOCK,
            label="Ask Eddy",
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=ask.SEARCH,
                placeholder="e.g. How do I reset my VPN password? (press Enter)",
                max_length=MAX_TEXT,
                dispatch_action_config=DispatchActionConfig(
                    trigger_actions_on=["on_enter_pressed"]
                ),
            ),
        ),
        context("I answer in our DM, just like `/ask`."),
    ]


def member_blocks(runtime: Runtime, user: str) -> list[Block]:
    shown = home.member_home(runtime, user, now=runtime.clock.now())
    blocks: list[Block] = [*search_box(), DividerBlock()]
    blocks += points_blocks(runtime, shown)
    blocks += [DividerBlock(), *learning_blocks(shown, runtime.clock.now())]
    if shown.expert_topics or shown.waiting:
        blocks += [DividerBlock(), *expert_blocks(shown)]
    if shown.recommended:
        blocks += [DividerBlock(), section("*Picked for you*")]
        blocks += [
            SectionBlock(
                text=f"*{escape(pick.entry.title)}*\n_because {escape(pick.because)}_",
                accessory=button("Read", READ, pick.entry.slug),
            )
            for pick in shown.recommended
        ]
    blocks += [
        DividerBlock(),
        context(*(f"`{command.name}` {escape(command.summary)}" for command in COMMANDS)),
    ]
    return blocks


def points_blocks(runtime: Runtime, shown: MemberHome) -> list[Block]:
    if shown.standing is None:
        return [section("*Your points* can't be shown right now; `/badges` tries again.")]
    lines = badges.standing_blocks(shown.standing, runtime.catalogue.badge_rules, own=True)
    return [section("\n".join(lines[:-1])), context(lines[-1])]


def learning_blocks(shown: MemberHome, now: datetime) -> list[Block]:
    progress = shown.progress
    streak = (
        f"🔥 {progress.streak}-day streak (best {progress.best_streak})"
        if progress.streak
        else f"No streak going (best {progress.best_streak})"
    )
    blocks: list[Block] = [section(f"*Your learning* · {streak}")]
    today = progress.schedule.local_day(now) if progress.schedule else now.date()
    first = sorted(progress.paths, key=lambda each: not each.assigned)[:PATHS_SHOWN]
    for heading, group in lesson_handlers.path_groups(tuple(first)):
        blocks += [context(heading)] if heading else []
        for path_progress in group:
            total = path_progress.total
            known = f" ({path_progress.known} known)" if path_progress.known else ""
            if path_progress.completed_at:
                state = " · ✅ completed"
            elif path_progress.active:
                state = ""
            else:
                state = " · stopped" if path_progress.started else " · not started"
            blocks.append(
                section(
                    f"*{escape(path_progress.path.title)}* {meter(path_progress.done, total)} "
                    f"{path_progress.done}/{total} lessons{known}{state}"
                    + lesson_handlers.assigned_note(path_progress, today)
                )
            )
    if not progress.paths:
        blocks.append(section("You haven't started a learning path yet. Pick one:"))
    buttons: list[ButtonElement] = []
    if shown.next_lesson is not None:
        path, lesson = shown.next_lesson
        buttons.append(button(f"Next lesson: {lesson.title}", NEXT_LESSON, path.id, "primary"))
    stopped = {each.path.id for each in progress.paths if each.started}
    buttons += [
        button(
            f"{'Resume' if path.id in stopped else 'Start'}: {path.title}",
            numbered(START_PATH, index),
            path.id,
        )
        for index, path in enumerate(shown.other_paths[:PATHS_OFFERED])
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id="home_learning", elements=buttons))
    running = any(each.active for each in progress.paths)
    if running and progress.next_at is not None and progress.stopped_reason is None:
        blocks.append(context(f"Your next lesson arrives {when(progress.next_at)}."))
    elif progress.stopped_reason:
        blocks.append(context(f"Lessons are stopped: {escape(progress.stopped_reason)}."))
    return blocks


def expert_blocks(shown: MemberHome) -> list[Block]:
    names = ", ".join(escape(topic.name) for topic in shown.expert_topics) or "none"
    away = " · you are *away* (`/experts back` to get questions again)" if shown.away else ""
    blocks: list[Block] = [section(f"*Your networks:* {names}{away}")]
    for routed in shown.waiting:
        asked = f"{escape(routed.topic.name)} · asked {when(routed.routed_at)}"
        question = escape(shorten(routed.question, 300))
        if routed.status == networks.CLAIMED:
            blocks.append(
                section(f"“{question}”\n_{asked} · you claimed it: answer in its thread_")
            )
        else:
            blocks.append(
                SectionBlock(
                    text=f"“{question}”\n_{asked}_", accessory=button("Claim", CLAIM, routed.id)
                )
            )
    if not shown.waiting:
        blocks.append(context("No questions are waiting for you. Thank you!"))
    elif shown.waiting_total > len(shown.waiting):
        more = shown.waiting_total - len(shown.waiting)
        blocks.append(context(f"…and {more} more: `/experts me`"))
    return blocks


# --- the console -------------------------------------------------------------------------------


def pager(section_name: str, page: int, total: int) -> list[Block]:
    """Previous / Next buttons for a list of `total` items, when it has more than one page."""
    size = PAGE_SIZES[section_name]
    pages = max(1, math.ceil(total / size))
    if pages == 1:
        return []
    buttons = []
    if page > 0:
        buttons.append(button("← Previous", numbered(PAGE, 0), f"{section_name}:{page - 1}"))
    if page < pages - 1:
        buttons.append(button("Next →", numbered(PAGE, 1), f"{section_name}:{page + 1}"))
    return [
        context(f"Page {page + 1} of {pages} · {total:,} in all"),
        ActionsBlock(block_id=f"home_pages_{section_name}", elements=buttons),
    ]


def page_of(items: Sequence[Any], section_name: str, page: int) -> tuple[list[Any], int]:
    """The items on `page` (clamped to the last page), and that page."""
    size = PAGE_SIZES[section_name]
    last = max(0, math.ceil(len(items) / size) - 1)
    page = min(max(page, 0), last)
    return list(items[page * size : (page + 1) * size]), page


def queue_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = review.queue(runtime, now=runtime.clock.now())
    items: list[Any] = [*found.imports, *found.drafts, *found.flagged, *found.overdue]
    blocks: list[Block] = [
        section("*Review queue*"),
        context(
            f"{sum(len(batch.drafts) for batch in found.imports)} imported · "
            f"{len(found.drafts)} proposed in Slack · {len(found.flagged)} marked Not helpful · "
            f"{len(found.overdue)} not reviewed for "
            f"{runtime.settings.eddy_review_after_days} days"
        ),
    ]
    if not items:
        return [*blocks, section("Nothing waits for review. 🎉")]
    shown, page = page_of(items, "queue", state.page("queue"))
    heading = None
    for item in shown:
        kind = type(item).__name__
        if kind != heading:
            heading = kind
            blocks += [DividerBlock(), section(review_handlers.QUEUE_HEADINGS[kind])]
        blocks += review_handlers.queue_item(runtime, item)
    return [*blocks, *pager("queue", page, len(items))]


def gaps_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = gaps.gaps(runtime, now=runtime.clock.now())
    blocks: list[Block] = [
        section("*Knowledge gaps*"),
        context(
            f"Questions of the last {gaps.WINDOW_DAYS} days that I couldn't answer, or whose "
            "answer wasn't helpful; similar wordings are counted together. Write the missing "
            "entry and it answers the next person at once."
        ),
    ]
    if not found:
        return [*blocks, section("No gaps: every recent question found a helpful answer.")]
    shown, page = page_of(found, "gaps", state.page("gaps"))
    blocks += [review_handlers.gap_item(gap) for gap in shown]
    return [*blocks, *pager("gaps", page, len(found))]


def experts_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = networks.summaries(runtime, now=runtime.clock.now())
    blocks: list[Block] = [section("*Experts*")]
    if not found:
        return [*blocks, section("No subject-matter networks yet: add topics to networks.yml.")]
    open_total = sum(topic.open + topic.claimed for topic in found)
    overdue_total = sum(topic.overdue for topic in found)
    blocks.append(
        context(
            f"{len(found)} topics · {open_total} questions open · {overdue_total} overdue "
            "(waiting longer than their topic's first reminder)"
        )
    )
    shown, page = page_of(found, "experts", state.page("experts"))
    blocks += [network_handlers.topic_summary(summary) for summary in shown]
    return [*blocks, *pager("experts", page, len(found))]


def channels_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = listening.channels(runtime)
    blocks: list[Block] = [
        SectionBlock(
            text="*Help channels*: where I answer questions without being mentioned, in the "
            "question's thread and only when I'm sure.",
            accessory=button(
                "Listen in a channel", listening_handlers.CHANNEL_ADD, "new", "primary"
            ),
        )
    ]
    if not found:
        return [*blocks, context("I'm not listening in any channel yet.")]
    shown, page = page_of(found, "channels", state.page("channels"))
    for settings in shown:
        blocks += listening_handlers.channel_item(settings)
    return [*blocks, *pager("channels", page, len(found))]


def schedules_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    plans = lessons.channel_plans(runtime)
    blocks: list[Block] = [
        SectionBlock(
            text="*Schedules*: learning paths posted into channels, one lesson a day.",
            accessory=button("Add a schedule", lesson_handlers.SCHEDULE_ADD, "new", "primary"),
        )
    ]
    paused = reminder_handlers.paused_blocks(lesson_reminders.paused_learners(runtime))
    if not plans:
        return [*blocks, context("No path is scheduled into a channel yet."), *paused]
    shown, page = page_of(plans, "schedules", state.page("schedules"))
    for plan in shown:
        blocks += lesson_handlers.schedule_item(plan)
    return [*blocks, *pager("schedules", page, len(plans)), *paused]


def assigned_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = assignments.listing(runtime, viewer=None, now=runtime.clock.now()).assignments
    blocks: list[Block] = [
        SectionBlock(
            text="*Assigned learning*: paths assigned to people, user groups and channels, "
            "and onboarding journeys; people who join a group or channel later get them too.",
            accessory=button("Assign a path", assignment_handlers.ASSIGN_ADD, "new", "primary"),
        )
    ]
    if not found:
        return [*blocks, context("Nothing is assigned yet.")]
    shown, page = page_of(found, "assigned", state.page("assigned"))
    for each in shown:
        blocks += assignment_handlers.assignment_item(each)
    return [*blocks, *pager("assigned", page, len(found))]


def analytics_blocks(runtime: Runtime, state: HomeState) -> list[Block]:
    found = analytics.report(runtime, days=state.days, now=runtime.clock.now())
    steps = plural(len(found.trend_starts), found.step)
    each = "daily" if found.step == "day" else "weekly"
    blocks: list[Block] = [
        section(f"*Analytics* · the last {found.days} days"),
        ActionsBlock(
            block_id="home_periods",
            elements=[
                button(
                    f"{days} days",
                    numbered(PERIOD, index),
                    days,
                    "primary" if days == found.days else None,
                )
                for index, days in enumerate(analytics.PERIODS)
            ],
        ),
    ]
    for figure in found.figures:
        blocks.append(
            section(
                f"*{figure.label}:* {shown_value(figure, found)}\n"
                f"`{trend(figure.trend)}` {each}, {steps}: "
                f"{shown_number(figure.trend[0], figure.kind)} → "
                f"{shown_number(figure.trend[-1], figure.kind)}"
            )
        )
    blocks.append(
        context(
            f"Each bar is one {found.step}, the last ending now and the first starting with the "
            f"period; the tallest is the busiest. Points are net of those taken back."
        )
    )
    return blocks


def shown_value(figure: analytics.Figure, found: analytics.Analytics) -> str:
    value = shown_number(figure.value, figure.kind)
    if figure.key == "confident":
        asked = found.figure("asked").value or 0
        if asked and figure.value is not None:
            value += f" ({figure.value / asked:.0%} of questions)"
    return value


def shown_number(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value:.0%}"
    if kind == "duration":
        return duration(timedelta(seconds=value))
    return f"{round(value):,}"


CONSOLE: dict[str, Callable[[Runtime, HomeState], list[Block]]] = {
    "queue": queue_blocks,
    "gaps": gaps_blocks,
    "experts": experts_blocks,
    "channels": channels_blocks,
    "schedules": schedules_blocks,
    "assigned": assigned_blocks,
    "analytics": analytics_blocks,
}
#: Tabs drawn for the reader rather than for the console as a whole.
READER_TABS = (LEARNING_TAB,)


# --- listeners -----------------------------------------------------------------------------------


def on_home_opened(event: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    if event.get("tab") != "home":
        return
    publish(runtime, client, event["user"], change=lambda state: state.telling(None))


def _pressed(body: dict[str, Any]) -> tuple[str, str]:
    return presser(body), action_value(body)


def refused_console(runtime: Runtime, client: WebClient, user: str, what: str) -> None:
    """A console button pressed by someone who is not a community manager (a forged
    request: the console is drawn only for managers): their own tab, and a plain no."""
    log.warning("Refused %s to %s, who is not a community manager", what, user)
    publish(
        runtime, client, user, notice=CONSOLE_ONLY, change=lambda state: state.on_tab(MEMBER_TAB)
    )


def on_tab(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, tab = _pressed(body)
    owner_tab = tab == LEARNING_TAB and reports_for(runtime, user)
    if tab != MEMBER_TAB and not runtime.is_manager(user) and not owner_tab:
        refused_console(runtime, client, user, f"console tab {tab[:40]!r}")
        return
    chosen = tab if tab in CONSOLE or tab in READER_TABS else MEMBER_TAB
    publish(runtime, client, user, change=lambda state: state.on_tab(chosen))


def on_page(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """The console's Previous / Next (every paged list is the console's)."""
    ack()
    user, value = _pressed(body)
    if not runtime.is_manager(user):
        refused_console(runtime, client, user, "a console page")
        return
    section_name, _, page = value.partition(":")
    number = small_number(page, PAGE_LIMIT)
    if section_name not in PAGE_SIZES or number is None:
        publish(runtime, client, user, notice="That page is not there any more.")
        return
    publish(runtime, client, user, change=lambda state: state.turn(section_name, number))


def on_period(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, value = _pressed(body)
    if not runtime.is_manager(user):
        refused_console(runtime, client, user, "the analytics period")
        return
    days = small_number(value, max(analytics.PERIODS))
    if days is None or days not in analytics.PERIODS:
        publish(runtime, client, user, notice="That period is not offered any more.")
        return
    publish(runtime, client, user, change=lambda state: state.over(days))


def on_report_path(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """The learning report's path (a manager's pick of any, an owner's of theirs)."""
    ack()
    user, path_id = presser(body), selected_value(body)
    if not reports_for(runtime, user):
        refused_console(runtime, client, user, "a learning report")
        return
    if not any(path.id == path_id for path in learning_reports.reportable_paths(runtime, user)):
        if path_id in lessons.paths(runtime):
            log.warning("Refused the report on %r to %s, who does not own it", path_id, user)
        publish(runtime, client, user, notice=REPORT_GONE)
        return
    publish(runtime, client, user, change=lambda state: reporting(state, path=path_id))


def on_report_team(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """The learning report's team: a user group or a channel's members, as Slack says."""
    ack()
    user, words = presser(body), action_value(body).strip()
    if not reports_for(runtime, user):
        refused_console(runtime, client, user, "a learning report's team")
        return
    if not words:
        publish(runtime, client, user, change=lambda state: reporting(state, team=None))
        return
    if len(words) > report_handlers.TEAM_WORDS_LIMIT:
        publish(runtime, client, user, notice=TEAM_USAGE)
        return
    try:
        team = team_members(runtime, client, words)
    except TeamLookUpError as error:
        publish(runtime, client, user, notice=str(error))
        return
    if team is None:
        typed = escape(shorten(words, 80))
        publish(runtime, client, user, notice=f"I found no team “{typed}”. {TEAM_USAGE}")
        return
    publish(runtime, client, user, change=lambda state: reporting(state, team=team.stored()))


def on_report_everyone(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """The learning report for everyone on the path again (no team)."""
    ack()
    user = presser(body)
    if not reports_for(runtime, user):
        refused_console(runtime, client, user, "a learning report's team")
        return
    publish(runtime, client, user, change=lambda state: reporting(state, team=None))


REPORT_GONE = "That path is not there any more, or its report is not yours to see."
TEAM_USAGE = "Type a user group like @support-team or a channel like #support, then Enter."


def reporting(state: HomeState, **choice: Any) -> HomeState:
    return state.on_tab(LEARNING_TAB).reporting(**choice)


def selected_value(body: dict[str, Any]) -> str:
    """The value of the option picked in a select ("" when there is none or it is not text)."""
    actions = body.get("actions") or [{}]
    picked = actions[0].get("selected_option") if isinstance(actions[0], dict) else None
    value = picked.get("value") if isinstance(picked, dict) else None
    return value if isinstance(value, str) else ""


def on_next_lesson(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = body["user"]["id"]
    lesson_handlers.send_next(
        runtime, client, user, lambda text: publish(runtime, client, user, notice=text)
    )


def on_start_path(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, path_id = _pressed(body)
    path = lessons.paths(runtime).get(path_id)
    if path is None:
        publish(runtime, client, user, notice="That path is no longer available.")
        return
    text, first = lesson_handlers.start_path(runtime, client, user, path)
    if first is not None:
        lessons.send_due(runtime, runtime.clock.now(), ids=[first])
    publish(runtime, client, user, notice=text)


def on_claim(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, value = _pressed(body)
    text = network_handlers.claim_from_home(runtime, client, user, row_id(value) or 0)
    publish(runtime, client, user, notice=text)


def on_read(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """Open a recommended entry in a modal (reading it asks nothing, so nothing is logged)."""
    ack()
    user, slug = _pressed(body)
    entry = runtime.catalogue.get(slug)
    if entry is None:
        publish(runtime, client, user, notice="That entry is no longer in the knowledge index.")
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal",
            title="Eddy",
            close="Close",
            blocks=ask.entry_blocks(entry, people.name_of(runtime, client, entry.owner))[:99],
        ),
    )
