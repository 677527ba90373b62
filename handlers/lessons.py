"""Micro-lessons in Slack: `/learn`, the lesson messages with their quiz buttons, and the
poster the delivery job sends them through.

Where things go: a person's lessons arrive in their DM with Eddy, and answering a quiz there
redraws the message with the result; a lesson scheduled into a channel keeps its buttons for
everyone, and each person's result is shown to them alone (an ephemeral message).

A lesson in a DM also has "I know this" (skipped as known; the redraw says when its quiz comes
back), and a path with a placement check opens with one message of its quiz items, redrawn at
each tap and summed up at the end ("You already know 3 of 5").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import lessons
from bot.content.lesson_paths import LearningPath, Lesson
from bot.lessons import (
    LessonMessage,
    PathProgress,
    PlacementClosedError,
    Posted,
    PostResult,
    QuizRefusedError,
    QuizResult,
    QuizState,
    Schedule,
    ScheduleChange,
    SchedulePaused,
    TryLater,
    Unreachable,
)
from bot.runtime import HomeChanged, Runtime
from bot.text import plural
from handlers import privacy
from handlers.blocks import (
    CHANNEL_LINK,
    HomeNotice,
    as_dicts,
    button,
    code,
    context,
    escape,
    markdown_to_slack,
    mention,
    meter,
    searchable,
    section,
    sections,
    shorten,
    typed,
    typed_input,
    when,
)
from handlers.forms import channel_select
from handlers.people import LookUpError, person, person_from_slack
from handlers.slack import channel_problem, dm, ephemeral, reply
from handlers.slash import SlashCommand
from handlers.values import (
    action_value,
    can_respond,
    entered,
    metadata_text,
    presser,
    row_id,
    small_number,
)

log = logging.getLogger(__name__)

LEARN = SlashCommand(
    "/learn",
    "Short daily lessons from learning paths, with a one-tap quiz.",
    (
        "/learn paths",
        "/learn start <path>",
        "/learn stop <path|all>",
        "/learn next",
        "/learn me [export]",
        "/learn time <HH:MM> [days]",
        "/learn schedule <path> #channel [HH:MM] [days] [Area/City]",
        "/learn unschedule <path> #channel",
        "/learn schedules",
        "/learn assign <path> @person|@group|#channel [by YYYY-MM-DD] [why: <a line>]",
        "/learn unassign <path> @person|@group|#channel",
        "/learn assigned [path]",
    ),
    needs_text=True,
)
ANSWER = re.compile(r"^lessons_answer_\d+$")
#: A placement item's options: one action_id per option, as for quizzes.
PLACE = re.compile(r"^lessons_place_\d+$")
DONE, START, LINK, KNOW = "lessons_done", "lessons_start", "lessons_link", "lessons_known"
METADATA_TYPE = "eddy_lesson"
NOT_ANSWERABLE = "That lesson button can't be used any more. `/learn next` brings a fresh lesson."
#: Slack refuses these for good: stop sending there and say why.
GONE = {
    "user_not_found": "they are no longer in the workspace",
    "user_disabled": "they left the workspace",
    "account_inactive": "they left the workspace",
    "cannot_dm_bot": "Slack does not allow Eddy to message them",
    "messages_tab_disabled": "they turned off direct messages from apps",
    "channel_not_found": "Eddy cannot see the channel (deleted, or private without Eddy)",
    "not_in_channel": "Eddy is not in the channel (invite @Eddy there)",
    "is_archived": "the channel is archived",
    "restricted_action": "the channel does not let apps post",
    "restricted_action_read_only_channel": "the channel is read-only",
}


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Lessons' listeners; the delivery job posts lessons through Slack, and managers hear
    when a channel's schedule stops."""
    app.command(LEARN.name)(on_learn_command)
    app.action(ANSWER)(on_answer)
    app.action(PLACE)(on_placement)
    app.action(DONE)(on_done)
    app.action(KNOW)(on_know)
    app.action(START)(on_start_button)
    app.action(LINK)(on_link)
    app.event("user_change")(on_user_change)
    register_console(app)
    runtime.lesson_poster = SlackLessonPoster(lesson_client(client))
    runtime.listen(SchedulePaused, lambda notice: tell_managers(client, notice))


def lesson_client(client: WebClient) -> WebClient:
    """A client that waits out 429s (Slack posted nothing) but retries nothing else itself:
    after a dropped connection or a 5xx the post may have gone through, and the delivery job
    checks that before posting again."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)],
    )


# --- the lesson message ---------------------------------------------------------------------


def lesson_blocks(message: LessonMessage) -> list[dict[str, Any]]:
    """The lesson message's blocks, as Slack takes them."""
    if message.is_placement:
        return placement_blocks(message)
    head: list[Block] = []
    body: tuple[dict[str, Any], ...] = ()
    tail: list[Block] = []
    path, lesson = message.path, message.lesson
    if path is not None and lesson is not None:
        helps_with = message.helps_with
        if helps_with is not None:
            heading = f"{path.title} · another look"
        else:
            heading = f"{path.title} · lesson {message.number} of {len(path.main_line)}"
        head.append(HeaderBlock(text=shorten(heading, 150)))
        head.append(section(f"*{escape(lesson.title)}* · {lesson.minutes} min"))
        if helps_with is not None:
            head.append(
                context(
                    f"The quiz of “{escape(helps_with.title)}” didn't land, so here is the "
                    "same idea from another side."
                )
            )
        body = lesson_body(lesson)
        links: list[ButtonElement] = []
        if lesson.link:
            links.append(ButtonElement(text="Read more", url=lesson.link, action_id=LINK))
        if message.can_skip:
            value = json.dumps({"d": message.delivery_id, "p": path.id, "l": lesson.id})
            links.append(button("I know this", KNOW, value))
        if links:
            tail.append(ActionsBlock(elements=links))
        if message.known:
            tail.append(context(known_text(lesson, message.comes_back.get((path.id, lesson.id)))))
        else:
            tail += _quiz_blocks(message, path, lesson, review=False)
    if message.reviews:
        tail.append(DividerBlock() if head else HeaderBlock(text="Quick review"))
        for review_path, review in message.reviews:
            tail += _quiz_blocks(message, review_path, review, review=True)
    tail.append(context(_footer(message)))
    return [*as_dicts(head), *body, *as_dicts(tail)]


@lru_cache(maxsize=512)
def lesson_body(lesson: Lesson) -> tuple[dict[str, Any], ...]:
    """A lesson's Markdown as Slack sections, converted once per lesson version (converting
    and validating it is most of what building a lesson message costs)."""
    return tuple(as_dicts(sections(markdown_to_slack(lesson.body))))


def _quiz_blocks(
    message: LessonMessage, path: LearningPath, lesson: Lesson, *, review: bool
) -> list[Block]:
    quiz = lesson.quiz
    base = {"d": message.delivery_id, "p": path.id, "l": lesson.id}
    if quiz is None:
        if review:
            return []
        if message.done:
            return [context("✅ Done. Nice work.")]
        return [ActionsBlock(elements=[button("Mark as done", DONE, json.dumps(base), "primary")])]
    intro = (
        f"🔁 *Review* from _{escape(path.title)}_ · {escape(lesson.title)}\n"
        if review
        else "*Quiz* · "
    )
    blocks: list[Block] = [section(f"{intro}{escape(quiz.question)}")]
    state = message.answers.get((path.id, lesson.id))
    if state is not None:
        key = (path.id, lesson.id)
        again_at = message.comes_back.get(key)
        retired = key in message.comes_back and again_at is None
        blocks.append(section(result_text(lesson, state, again_at, retired=retired)))
        return blocks
    buttons = [
        button(shorten(option, 75), f"lessons_answer_{number}", json.dumps(base | {"o": number}))
        for number, option in enumerate(quiz.options)
    ]
    blocks.append(ActionsBlock(elements=buttons))
    return blocks


def known_text(lesson: Lesson, again_at: datetime | None) -> str:
    """What a lesson skipped with "I know this" says instead of its quiz."""
    text = "🙌 Skipped: you know this one."
    if lesson.quiz is not None and again_at is not None:
        text += f" Its quiz comes back with your lesson {when(again_at)}, to check it stuck."
    return text


def placement_blocks(message: LessonMessage) -> list[dict[str, Any]]:
    """A path's placement check: its quiz items, one tap each, and once it is over what
    the person knew (the lessons they skip)."""
    path = message.path
    items = message.placement_items
    title = path.title if path is not None else "Your new path"
    blocks: list[Block] = [HeaderBlock(text=shorten(f"{title} · what do you know already?", 150))]
    answered = [
        message.answers[(p.id, lesson.id)]
        for p, lesson in items
        if (p.id, lesson.id) in message.answers
    ]
    finished = len(answered) == len(items) or message.placement_closed
    if finished:
        right = sum(state.correct for state in answered)
        blocks.append(section(placement_summary(right, len(items))))
    else:
        blocks.append(
            section(
                f"Before your first lesson: {plural(len(items), 'quick question')} from this "
                "path. Each one you get right skips its lesson (its question comes back "
                "later, to check it stuck). Not sure? Leave the question, and its lesson "
                "comes as usual. Your first lesson follows once you've answered them all, or "
                "at your next lesson time."
            )
        )
    for number, (item_path, lesson) in enumerate(items, start=1):
        quiz = lesson.quiz
        assert quiz is not None
        blocks.append(section(f"*{number}.* {escape(quiz.question)}"))
        state = message.answers.get((item_path.id, lesson.id))
        if state is not None and state.correct:
            again = message.comes_back.get((item_path.id, lesson.id))
            later = f" It comes back {when(again)}, to check." if again else ""
            blocks.append(context(f"✅ Right: you know this; its lesson is skipped.{later}"))
        elif state is not None:
            blocks.append(context("❌ Not this time: it comes as a lesson."))
        elif message.placement_closed:
            blocks.append(context("Not answered: it comes as a lesson."))
        else:
            base = {"d": message.delivery_id, "p": item_path.id, "l": lesson.id}
            buttons = [
                button(
                    shorten(option, 75), f"lessons_place_{index}", json.dumps(base | {"o": index})
                )
                for index, option in enumerate(quiz.options)
            ]
            blocks.append(ActionsBlock(elements=buttons))
    blocks.append(context(_footer(message)))
    return as_dicts(blocks)


def placement_summary(known: int, asked: int) -> str:
    if known == 0:
        return (
            f"You knew none of the {asked} yet, so every lesson will come: that's what the "
            "path is for."
        )
    if known == asked:
        return f"*You already know all {asked}:* I'll skip those lessons."
    skipped = "that lesson" if known == 1 else "those lessons"
    return f"*You already know {known} of {asked}:* I'll skip {skipped}."


def result_text(
    lesson: Lesson, state: QuizState, again_at: datetime | None = None, retired: bool = False
) -> str:
    quiz = lesson.quiz
    assert quiz is not None
    if state.correct:
        text = f"✅ *Right:* {escape(quiz.right_option)}"
    else:
        text = (
            f"❌ You chose “{escape(quiz.options[state.chosen])}”. The answer is "
            f"*{escape(quiz.right_option)}*."
        )
    if quiz.explanation:
        text += f"\n{escape(quiz.explanation)}"
    if retired:
        text += "\n_You know this one now: it won't come back._"
    elif again_at is not None:
        text += f"\n_I'll ask you again with your lesson {when(again_at)}._"
    return text


def _footer(message: LessonMessage) -> str:
    if message.in_channel:
        path = message.path
        start = f" · `/learn start {path.id}` to get the path by DM" if path else ""
        return f"Tap an answer: only you see your result{start}"
    parts = []
    if message.next_at is not None:
        parts.append(f"Next lesson {when(message.next_at)}")
    parts.append("`/learn me` for your progress")
    if message.path is not None:
        parts.append(f"`/learn stop {message.path.id}` to stop")
    return " · ".join(parts)


def fallback_text(message: LessonMessage) -> str:
    if message.is_placement and message.path is not None:
        return f"A few quick questions before “{escape(message.path.title)}” starts"
    if message.lesson is not None and message.path is not None:
        return (
            f"Today's lesson from “{escape(message.path.title)}”: “{escape(message.lesson.title)}”"
        )
    return "A quick review of what you learned"


class SlackLessonPoster:
    """Posts lesson messages, each carrying its delivery's ID in message metadata, and finds
    one an earlier attempt may have posted."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, message: LessonMessage) -> PostResult:
        try:
            reply = self.client.chat_postMessage(
                channel=message.recipient,
                text=fallback_text(message),
                blocks=lesson_blocks(message),
                metadata={
                    "event_type": METADATA_TYPE,
                    "event_payload": {"delivery_id": message.delivery_id},
                },
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            return _failure(error)
        except OSError as error:  # a dropped connection or a timeout: it may have got through
            return TryLater(f"no answer from Slack ({type(error).__name__})", maybe_posted=True)
        return Posted(str(reply["channel"]), str(reply["ts"]))

    def find(self, message: LessonMessage, since: datetime) -> PostResult | None:
        try:
            channel = message.recipient
            if not message.in_channel:
                channel = self.client.conversations_open(users=message.recipient)["channel"]["id"]
            history = self.client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
            )
        except SlackApiError as error:
            return _failure(error)
        except OSError as error:
            return TryLater(f"could not check Slack ({type(error).__name__})")
        messages: list[dict[str, Any]] = history.get("messages", [])
        for found in messages:
            metadata: dict[str, Any] = found.get("metadata") or {}
            payload: dict[str, Any] = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_TYPE
                and payload.get("delivery_id") == message.delivery_id
            ):
                return Posted(channel, str(found["ts"]))
        return None


def _failure(error: SlackApiError) -> PostResult:
    code = str(error.response.get("error") or "")
    if code in GONE:
        return Unreachable(GONE[code])
    status = error.response.status_code
    return TryLater(f"Slack answered {status} {code}".strip(), maybe_posted=status >= 500)


def tell_managers(client: WebClient, notice: SchedulePaused) -> None:
    text = (
        f"I paused the *{escape(notice.path_title)}* lessons in <#{notice.channel}>: "
        f"{escape(notice.reason)}. Fix that, then `/learn schedule` the path there again to "
        "resume."
    )
    for manager in notice.managers:
        try:
            client.chat_postMessage(channel=manager, text=text, blocks=as_dicts([section(text)]))
        except SlackApiError as error:
            log.warning(
                "Could not tell %s about a paused schedule: %s",
                manager,
                error.response.get("error"),
            )


# --- /learn ---------------------------------------------------------------------------------


def on_learn_command(
    ack: Ack, command: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    text = command.get("text", "").strip()
    screened = LEARN.screen(text)
    if screened is not None:
        ack(**screened)
        return
    verb, _, rest = text.partition(" ")
    handler = SUBCOMMANDS.get(verb.lower())
    if handler is None:
        ack(**LEARN.unknown(text))
        return
    if not lessons.paths(runtime) and handler is not learn_me:
        ack(
            **LEARN.reply(
                "No learning paths are set up yet: a community manager adds them to "
                "`content/lessons/`."
            )
        )
        return
    handler(ack, runtime, client, command, rest.strip())


def person_zone(runtime: Runtime, client: WebClient, user_id: str) -> str:
    """The person's Slack time zone (users.info, remembered); empty when Slack cannot say."""
    try:
        found = person(runtime, client, user_id)
    except LookUpError as error:
        log.warning("Could not read the time zone of %s: %s", user_id, error)
        return ""
    return found.tz if found is not None else ""


def resolve_path(
    ack: Ack, runtime: Runtime, words: str, verb: str
) -> tuple[LearningPath, str] | None:
    """The path `words` name and a note when it was a guess; acks an explanation and returns
    None when there is none."""
    known = ", ".join(f"`{key}`" for key in lessons.paths(runtime))
    if not words:
        ack(**LEARN.reply(f"Which path? Try {code(f'/learn {verb} <path>')}. Paths: {known}."))
        return None
    found = lessons.find_path(runtime, searchable(words))
    asked = escape(shorten(typed(words), 60))
    if found is None:
        ack(**LEARN.reply(f"I don't know a path called “{asked}”. Paths: {known}."))
        return None
    path, guessed = found
    note = f"(I took “{asked}” to mean *{escape(path.title)}*.) " if guessed else ""
    return path, note


def learn_paths(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    ack(**paths_listing(runtime, command["user_id"]))


def paths_listing(runtime: Runtime, user_id: str) -> dict[str, Any]:
    """Every path, with Start on those `user_id` is not on (drawn again after a Start, so the
    list never offers a path they are on)."""
    mine = lessons.subscribed_paths(runtime, user_id)
    blocks: list[Block] = [section("*Learning paths* — one short lesson a day, with a quiz.")]
    for path in lessons.paths(runtime).values():
        audience = f" · for {', '.join(path.audience)}" if path.audience else ""
        check = " · opens with a quick check of what you know" if path.placement else ""
        line = (
            f"*{escape(path.title)}* (`{path.id}`)\n{escape(path.description)}\n"
            f"_{len(path.main_line)} lessons · about {path.minutes} min in all{audience}{check}_"
        )
        if path.id in mine:
            blocks.append(section(line + "\n✅ You're on this path."))
        else:
            blocks += [
                section(line),
                ActionsBlock(elements=[button("Start", START, path.id)]),
            ]
    return {"text": "Learning paths", "blocks": as_dicts(blocks[:50])}


def learn_start(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    found = resolve_path(ack, runtime, rest, "start")
    if found is None:
        return
    path, note = found
    text, first = start_path(runtime, client, command["user_id"], path)
    reply(ack, note + text)
    if first is not None:
        lessons.send_due(runtime, runtime.clock.now(), ids=[first])


def start_path(
    runtime: Runtime, client: WebClient, user_id: str, path: LearningPath
) -> tuple[str, int | None]:
    """Subscribe; what to tell the person, and the first lesson's delivery to send now."""
    started = lessons.start(
        runtime, user_id, path, tz=person_zone(runtime, client, user_id), now=runtime.clock.now()
    )
    title = f"*{escape(path.title)}*"
    when_next = started.schedule.describe()
    if started.already:
        return f"You're already on {title}. Your lessons come {when_next}.", None
    if started.delivery_id is None:
        return (
            f"You've done every lesson of {title} already. Its quizzes will come back now and "
            "then, to help them stick.",
            None,
        )
    if started.placement:
        return (
            f"You're on {title}. First, a few quick questions are in your DMs: what you know "
            f"already, you skip. Lessons then come {when_next}.",
            started.delivery_id,
        )
    return (
        f"You're on {title}. Your first lesson is in your DMs now; the next ones come "
        f"{when_next}. Change that with `/learn time 08:30 mon-fri`.",
        started.delivery_id,
    )


def learn_stop(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    user = command["user_id"]
    now = runtime.clock.now()
    if rest.lower() == "all":
        stopped = lessons.stop(runtime, user, None, now=now)
        reply(
            ack,
            f"Stopped all your lessons and reviews. {code('/learn start <path>')} whenever you "
            "like."
            if stopped
            else "You have no lessons running.",
        )
        return
    found = resolve_path(ack, runtime, rest, "stop")
    if found is None:
        return
    path, note = found
    if lessons.stop(runtime, user, path.id, now=now):
        reply(
            ack,
            (
                f"{note}Stopped *{escape(path.title)}*. Your progress is kept: `/learn start "
                f"{path.id}` picks up where you left off."
            ),
        )
    else:
        reply(ack, f"{note}You're not on *{escape(path.title)}*.")


def learn_next(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    send_next(runtime, client, command["user_id"], lambda text: reply(ack, text))


def send_next(runtime: Runtime, client: WebClient, user: str, tell: Callable[[str], None]) -> None:
    """Send the next lesson now (`/learn next`, the Home tab's button); `tell` says what
    happened before the lesson goes out."""
    now = runtime.clock.now()
    delivery_id = lessons.ask_next(runtime, user, tz=person_zone(runtime, client, user), now=now)
    held = lessons.waiting(runtime, user, now=now) if delivery_id is None else None
    if held is not None:
        tell(
            f"No lesson is waiting right now: *{escape(held.lesson.title)}* "
            f"({escape(held.path.title)}) comes {when(held.at)}, on its day of your journey."
        )
        return
    if delivery_id is None:
        tell(
            f"No lesson is waiting: start a path with {code('/learn start <path>')} (see "
            "`/learn paths`)."
        )
        return
    tell("Your next lesson is in your DMs.")
    lessons.send_due(runtime, now, ids=[delivery_id])


def learn_me(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    """Your progress; `/learn me export` DMs you everything Eddy keeps about you."""
    words = rest.lower().split()
    if words == [privacy.EXPORT_WORD]:
        privacy.on_export(ack, runtime, client, command)
        return
    if words[:1] == [privacy.EXPORT_WORD]:
        ack(**LEARN.reply("`/learn me export` takes nothing more: it sends only your own data."))
        return
    if words:
        word = escape(shorten((typed(rest).split() or ["that"])[0], 40))
        ack(**LEARN.reply(f"I don't know `{word}` for `/learn me`: it takes `export`, or nothing."))
        return
    progress = lessons.progress(runtime, command["user_id"], now=runtime.clock.now())
    if not progress.paths and progress.answered == 0:
        reply(ack, "You haven't started a path yet. `/learn paths` shows them.")
        return
    now = runtime.clock.now()
    today = progress.schedule.local_day(now) if progress.schedule else now.date()
    lines = []
    for heading, group in path_groups(progress.paths):
        lines += [heading] if heading else []
        for each in group:
            bar = meter(each.done, each.total)
            if each.completed_at is not None:
                status = f"🎓 completed {when(each.completed_at)}"
            else:
                status = "running" if each.active else "stopped" if each.started else "not started"
            known = f" ({each.known} known)" if each.known else ""
            lines.append(
                f"*{escape(each.path.title)}* {bar} {each.done}/{each.total}{known} · {status}"
                + assigned_note(each, today)
            )
    streak = (
        f"🔥 {progress.streak}-day streak (best {progress.best_streak})"
        if progress.streak
        else f"No streak running (best {progress.best_streak})"
    )
    accuracy = (
        f"{progress.right}/{progress.answered} quiz answers right"
        if progress.answered
        else "No quiz answers yet"
    )
    details = [streak, accuracy, f"{plural(progress.reviews_waiting, 'review')} due"]
    if progress.stopped_reason:
        details.append(
            f"Lessons are paused: {escape(progress.stopped_reason)}. "
            f"{code('/learn start <path>')} resumes them"
        )
    elif progress.paused_reason:
        details.append(
            f"Lessons are paused: {escape(progress.paused_reason)}. "
            f"{code('/learn next')} resumes them with a lesson now"
        )
    elif (
        any(each.active for each in progress.paths)
        and progress.next_at is not None
        and progress.schedule is not None
    ):
        details.append(
            f"Next lesson {when(progress.next_at)}; they come {progress.schedule.describe()}"
        )
    text = "*Your learning*\n" + "\n".join(lines)
    ack(text="Your learning", blocks=as_dicts([section(text), context(" · ".join(details))]))


def path_groups(
    paths: tuple[PathProgress, ...],
) -> list[tuple[str, list[PathProgress]]]:
    """Paths assigned to someone apart from those they chose, each under its heading (none
    when nothing is assigned to them)."""
    assigned = [each for each in paths if each.assigned]
    own = [each for each in paths if not each.assigned]
    if not assigned:
        return [("", own)]
    return [("*Assigned to you*", assigned), *([("*Your own choice*", own)] if own else [])]


def assigned_note(each: PathProgress, today: date) -> str:
    """Who assigned a path and by when (or that it is overdue), for `/learn me` and Home."""
    if not each.assigned:
        return ""
    by = f"assigned by {mention(each.assigned_by)}" if each.assigned_by else "your onboarding"
    due = ""
    if each.due_on is not None and each.completed_at is None:
        day = each.due_on.strftime("%a %-d %b")
        due = f" · ⏰ overdue: it was due {day}" if each.due_on < today else f" · due {day}"
    return f" · {by}{due}"


def learn_time(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    user = command["user_id"]
    words = rest.split()
    at = next((t for t in map(lessons.parse_time, words) if t), None)
    days = _days_in([w for w in words if lessons.parse_time(w) is None])
    if not words:
        current, chosen = lessons.schedule_of(runtime, user, tz=person_zone(runtime, client, user))
        reply(
            ack,
            f"Your lessons come {current.describe()}"
            + ("" if chosen else " (the usual time: you haven't changed it)")
            + ". To change it: `/learn time 08:30`, `/learn time 9am mon-fri` or "
            "`/learn time 17:00 mon,wed,fri`.",
        )
        return
    if at is None and days is None:
        reply(
            ack,
            (
                "When should lessons arrive? Try `/learn time 08:30`, `/learn time 9am mon-fri` "
                "or `/learn time 17:00 mon,wed,fri`."
            ),
        )
        return
    if days is None and len(words) > 1:
        reply(
            ack,
            (
                f"I couldn't read the days in “{escape(shorten(typed(rest), 60))}”. Try "
                "`weekdays`, `daily`, `mon-fri` or `mon,wed,fri`."
            ),
        )
        return
    schedule = lessons.set_schedule(
        runtime,
        user,
        at=at,
        days=days,
        tz=person_zone(runtime, client, user),
        now=runtime.clock.now(),
    )
    reply(ack, f"Your lessons will come {schedule.describe()}.")


def _days_in(words: list[str]) -> frozenset[int] | None:
    if not words:
        return None
    found: set[int] = set()
    for word in words:
        days = lessons.parse_days(word)
        if days is None:
            return None
        found |= days
    return frozenset(found)


def learn_schedule(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    user = command["user_id"]
    if not lessons.may_schedule(runtime, user, "/learn schedule"):
        reply(
            ack,
            (
                "Only community managers can schedule lessons into channels. "
                f"{code('/learn start <path>')} gets them for you by DM."
            ),
        )
        return
    mentioned = [CHANNEL_LINK.match(word) for word in rest.split()]
    channels = [found.group(1) for found in mentioned if found]
    words = [word for word, found in zip(rest.split(), mentioned, strict=True) if not found]
    if not channels:
        reply(
            ack,
            (
                "Which channel? Name it with # so Slack links it: `/learn schedule "
                "security-basics #general 09:00 mon,wed,fri Europe/Berlin`."
            ),
        )
        return
    asked = lessons.read_schedule_words(words, person_zone(runtime, client, user) or "UTC")
    if asked.schedule is None:
        reply(ack, " ".join(asked.problems.values()) + " Nothing was scheduled.")
        return
    found = resolve_path(ack, runtime, " ".join(asked.rest), "schedule")
    if found is None:
        return
    path, note = found
    channel = channels[-1]
    problem = channel_problem(client, channel, then=SCHEDULE_AGAIN)
    if problem:
        reply(ack, f"{note}{problem}")
        return
    reply(ack, note + save_schedule(runtime, user, channel, path, asked.schedule))


def save_schedule(
    runtime: Runtime, manager: str, channel: str, path: LearningPath, schedule: Schedule
) -> str:
    """Schedule (or reschedule) a path into a channel; what to tell the manager."""
    change = lessons.schedule_channel(
        runtime,
        manager=manager,
        channel=channel,
        path=path,
        schedule=schedule,
        now=runtime.clock.now(),
    )
    if change is ScheduleChange.NOT_ALLOWED:
        return NOT_A_MANAGER
    verb = "Scheduled" if change is ScheduleChange.CREATED else "Updated"
    return f"{verb}: *{escape(path.title)}* in <#{channel}>, one lesson {schedule.describe()}."


def learn_unschedule(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    if not lessons.may_schedule(runtime, command["user_id"], "/learn unschedule"):
        reply(ack, NOT_A_MANAGER)
        return
    words = rest.split()
    channels = [m.group(1) for m in map(CHANNEL_LINK.match, words) if m]
    found = resolve_path(
        ack, runtime, " ".join(w for w in words if not CHANNEL_LINK.match(w)), "unschedule"
    )
    if found is None:
        return
    path, note = found
    if not channels:
        reply(ack, f"{note}Which channel? `/learn unschedule {path.id} #channel`.")
        return
    change = lessons.unschedule_channel(
        runtime, channel=channels[0], path_id=path.id, manager=command["user_id"]
    )
    where = f"*{escape(path.title)}* in <#{channels[0]}>"
    reply(
        ack,
        {
            ScheduleChange.REMOVED: f"{note}Stopped {where}.",
            ScheduleChange.NOT_FOUND: f"{note}{where} is not scheduled.",
        }.get(change, NOT_A_MANAGER),
    )


def learn_schedules(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    plans = lessons.channel_plans(runtime)
    if not plans:
        reply(
            ack,
            "No path is scheduled into a channel. Managers use "
            f"{code('/learn schedule <path> #channel')}.",
        )
        return
    lines = [f"• {plan_line(plan)}" for plan in plans]
    reply(ack, "*Lessons scheduled into channels*\n" + "\n".join(lines))


def plan_line(plan: lessons.ChannelPlan) -> str:
    reason = plan.status_reason or ""
    # A reason that already names the state ("paused by a community manager") is said once.
    stopped = reason if reason.startswith(plan.status) else f"{plan.status}: {reason}"
    state = {"active": f"next {when(plan.next_at)}" if plan.next_at else "active"}.get(
        plan.status, escape(stopped if reason else plan.status)
    )
    return (
        f"*{escape(plan.path.title)}* in <#{plan.channel}> — {plan.schedule.describe()}; "
        f"{plan.delivered}/{len(plan.path.main_line)} posted; {state}"
    )


SUBCOMMANDS = {
    "paths": learn_paths,
    "start": learn_start,
    "stop": learn_stop,
    "next": learn_next,
    "me": learn_me,
    "time": learn_time,
    "schedule": learn_schedule,
    "unschedule": learn_unschedule,
    "schedules": learn_schedules,
}


# --- buttons and events ---------------------------------------------------------------------


@dataclass(frozen=True)
class LessonPress:
    """What a lesson button's value names: the delivery, the quiz's path and lesson, and
    the option chosen (-1 for "Mark as done"). Looked up, never trusted: the domain checks
    the delivery carries that quiz and was sent to the presser (or into a channel)."""

    delivery_id: int
    path_id: str = ""
    lesson_id: str = ""
    chosen: int = -1


#: More options than any quiz has: a bigger index names none.
OPTION_LIMIT = 100


def lesson_press(body: dict[str, Any]) -> LessonPress | None:
    """The button's value as Eddy wrote it (JSON), or None for anything else."""
    try:
        value = json.loads(action_value(body))
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    delivery_id = row_id(value.get("d"))
    chosen = small_number(value.get("o", -1), OPTION_LIMIT) if "o" in value else -1
    path_id, lesson_id = value.get("p", ""), value.get("l", "")
    if delivery_id is None or chosen is None:
        return None
    if not isinstance(path_id, str) or not isinstance(lesson_id, str):
        return None
    return LessonPress(delivery_id, path_id, lesson_id, chosen)


def on_answer(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    def answer(user: str, press: LessonPress, tz: str) -> QuizResult:
        return lessons.answer_quiz(
            runtime,
            user,
            delivery_id=press.delivery_id,
            path_id=press.path_id,
            lesson_id=press.lesson_id,
            chosen=press.chosen,
            tz=tz,
            now=runtime.clock.now(),
        )

    on_lesson_button(ack, body, client, runtime, answer)


def on_done(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    def mark(user: str, press: LessonPress, tz: str) -> QuizResult | None:
        return lessons.mark_done(
            runtime, user, delivery_id=press.delivery_id, tz=tz, now=runtime.clock.now()
        )

    on_lesson_button(ack, body, client, runtime, mark)


def on_know(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """ "I know this": the lesson is skipped as known, its quiz comes back as a review."""

    def skip(user: str, press: LessonPress, tz: str) -> QuizResult | None:
        return lessons.know_lesson(
            runtime, user, delivery_id=press.delivery_id, tz=tz, now=runtime.clock.now()
        )

    on_lesson_button(ack, body, client, runtime, skip)


def on_placement(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    """A placement item answered: redraw the check; when it is over, send the first lesson
    not known."""
    ack()
    user = presser(body)
    press = lesson_press(body)
    channel = str((body.get("channel") or {}).get("id") or "")
    if press is None:
        log.warning("Refused a placement button from %s: a value Eddy did not make", user)
        ephemeral(client, channel, user, NOT_ANSWERABLE)
        return
    now = runtime.clock.now()
    try:
        result = lessons.answer_placement(
            runtime,
            user,
            delivery_id=press.delivery_id,
            path_id=press.path_id,
            lesson_id=press.lesson_id,
            chosen=press.chosen,
            tz=person_zone(runtime, client, user),
            now=now,
        )
    except QuizRefusedError as refusal:
        log.warning("Refused placement %s to %s: %s", press.delivery_id, user, refusal)
        if isinstance(refusal, PlacementClosedError):  # their own check: show it closed
            redraw_placement(runtime, client, press.delivery_id, user)
        ephemeral(client, channel, user, str(refusal))
        return
    redraw_placement(runtime, client, press.delivery_id, user)
    if result.already:
        ephemeral(client, channel, user, "You answered this one already; your first answer counts.")
    for path in result.completed:
        dm(
            client,
            user,
            f"🎓 You completed *{escape(path.title)}*! `/learn paths` has more to explore.",
        )
    if result.next_delivery is not None:
        lessons.send_due(runtime, now, ids=[result.next_delivery])


def redraw_placement(runtime: Runtime, client: WebClient, delivery_id: int, user: str) -> None:
    posted = lessons.posted_lesson(runtime, delivery_id, viewer=user)
    if posted is not None and posted.message is not None and posted.channel and posted.ts:
        redraw(client, posted.channel, posted.ts, posted.message)


def redraw(client: WebClient, channel: str, ts: str, message: LessonMessage) -> None:
    try:
        client.chat_update(
            channel=channel,
            ts=ts,
            text=fallback_text(message),
            blocks=lesson_blocks(message),
        )
    except SlackApiError as error:
        log.warning(
            "Could not redraw lesson %s: %s", message.delivery_id, error.response.get("error")
        )


def on_link(ack: Ack) -> None:
    """The "Read more" link opens in the person's browser; Slack tells Eddy too: no more to do."""
    ack()


def on_lesson_button(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    runtime: Runtime,
    apply: Callable[[str, LessonPress, str], QuizResult | None],
) -> None:
    """A quiz answer or "Mark as done": apply it, then show the result, or say why not."""
    ack()
    user = presser(body)
    press = lesson_press(body)
    channel = str((body.get("channel") or {}).get("id") or "")
    if press is None:  # a button value Eddy did not make
        log.warning("Refused a lesson button from %s: a value Eddy did not make", user)
        ephemeral(client, channel, user, NOT_ANSWERABLE)
        return
    try:
        result = apply(user, press, person_zone(runtime, client, user))
    except QuizRefusedError as refusal:
        log.warning("Refused lesson %s to %s: %s", press.delivery_id, user, refusal)
        ephemeral(client, channel, user, str(refusal))
        return
    if result is None:
        ephemeral(client, channel, user, "That lesson is no longer in Eddy's lessons.")
        return
    show_result(runtime, client, channel, user, press.delivery_id, result)


def show_result(
    runtime: Runtime,
    client: WebClient,
    channel: str,
    user: str,
    delivery_id: int,
    result: QuizResult,
) -> None:
    """In a DM, redraw the lesson with the result (the message Eddy posted for it, wherever
    the request says it was pressed); in a channel, tell only the person."""
    posted = lessons.posted_lesson(runtime, delivery_id, viewer=user)
    completed = [
        f"🎓 You completed *{escape(path.title)}*! `/learn paths` has more to explore."
        for path in result.completed
    ]
    already = "You answered this one already; your first answer counts."
    if result.already and result.chosen < 0:
        already = "You've done this lesson already."
    if posted is not None and posted.message is not None:
        if posted.channel and posted.ts:
            redraw(client, posted.channel, posted.ts, posted.message)
        if result.already:
            ephemeral(client, posted.channel or channel, user, already)
        for text in completed:
            dm(client, user, text)
        return
    if result.chosen < 0:
        text = f"✅ Marked *{escape(result.lesson.title)}* as done."
    else:
        state = QuizState(result.chosen, result.correct)
        retired = result.again_at is None and not result.already
        text = f"*{escape(result.lesson.title)}*\n" + result_text(
            result.lesson, state, result.again_at, retired=retired
        )
    where = posted.channel if posted is not None and posted.channel else channel
    ephemeral(client, where, user, "\n".join([already] * result.already + [text, *completed]))


def on_start_button(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user = presser(body)
    path = lessons.paths(runtime).get(action_value(body))
    channel = str((body.get("channel") or {}).get("id") or "")
    if path is None:
        text = "That path is no longer available. `/learn paths` shows the current ones."
        ephemeral(client, channel, user, text)
        return
    text, first = start_path(runtime, client, user, path)
    if can_respond(respond):
        respond(replace_original=True, **paths_listing(runtime, user))
    ephemeral(client, channel, user, text)
    if first is not None:
        lessons.send_due(runtime, runtime.clock.now(), ids=[first])


def on_user_change(event: dict[str, Any], runtime: Runtime) -> None:
    person = event.get("user") or {}
    if not person.get("id"):
        return
    runtime.people.remember(person_from_slack(person))
    lessons.update_person(
        runtime,
        person["id"],
        tz=person.get("tz"),
        left=bool(person.get("deleted")),
        now=runtime.clock.now(),
    )


# --- schedules in the managers' console (App Home) --------------------------------------------

SCHEDULE_ADD, SCHEDULE_CHANGE, SCHEDULE_PAUSE, SCHEDULE_RESUME, SCHEDULE_MODAL = (
    "lessons_schedule_add",
    "lessons_schedule_change",
    "lessons_schedule_pause",
    "lessons_schedule_resume",
    "lessons_schedule_modal",
)
CHANNEL_BLOCK, PATH_BLOCK, TIME_BLOCK, DAYS_BLOCK, ZONE_BLOCK = (
    "schedule_channel",
    "schedule_path",
    "schedule_time",
    "schedule_days",
    "schedule_zone",
)
NOT_A_MANAGER = "Only community managers can change the lessons scheduled into channels."
SCHEDULE_AGAIN = "schedule again"
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def register_console(app: App) -> None:
    app.action(SCHEDULE_ADD)(on_schedule_button)
    app.action(SCHEDULE_CHANGE)(on_schedule_button)
    app.action(SCHEDULE_PAUSE)(on_pause_or_resume)
    app.action(SCHEDULE_RESUME)(on_pause_or_resume)
    app.view(SCHEDULE_MODAL)(on_schedule_submitted)


def schedule_item(plan: lessons.ChannelPlan) -> list[Block]:
    """A channel schedule in the console, with Change and Pause (or Resume)."""
    key = f"{plan.channel} {plan.path.id}"
    toggle = (
        button("Pause", SCHEDULE_PAUSE, key)
        if plan.status == "active"
        else button("Resume", SCHEDULE_RESUME, key)
    )
    return [
        section(plan_line(plan)),
        ActionsBlock(elements=[button("Change", SCHEDULE_CHANGE, key), toggle]),
    ]


def find_plan(runtime: Runtime, key: str) -> lessons.ChannelPlan | None:
    channel, _, path_id = key.partition(" ")
    return next(
        (p for p in lessons.channel_plans(runtime) if (p.channel, p.path.id) == (channel, path_id)),
        None,
    )


def schedule_modal(runtime: Runtime, plan: lessons.ChannelPlan | None, default_zone: str) -> View:
    known = sorted(lessons.paths(runtime).values(), key=lambda path: path.title)
    schedule = plan.schedule if plan else Schedule(default_zone)
    day_options = [Option(text=label, value=str(day)) for day, label in enumerate(DAY_LABELS)]
    blocks: list[Block] = []
    if plan is None:
        blocks += [
            channel_select(CHANNEL_BLOCK),
            InputBlock(
                block_id=PATH_BLOCK,
                label="Learning path",
                element=StaticSelectElement(
                    action_id=PATH_BLOCK,
                    options=[
                        Option(text=shorten(path.title, 75), value=path.id) for path in known[:100]
                    ],
                ),
            ),
        ]
    else:
        blocks.append(section(f"*{escape(plan.path.title)}* in <#{plan.channel}>"))
    blocks += [
        InputBlock(
            block_id=TIME_BLOCK,
            label="Time of day",
            element=TimePickerElement(
                action_id=TIME_BLOCK, initial_time=schedule.at.strftime("%H:%M")
            ),
        ),
        InputBlock(
            block_id=DAYS_BLOCK,
            label="Days",
            element=CheckboxesElement(
                action_id=DAYS_BLOCK,
                options=day_options,
                initial_options=[day_options[day] for day in sorted(schedule.days)],
            ),
        ),
        InputBlock(
            block_id=ZONE_BLOCK,
            label="Time zone",
            hint="An IANA time zone, such as Europe/Berlin or America/New_York.",
            element=PlainTextInputElement(
                action_id=ZONE_BLOCK, initial_value=schedule.tz, max_length=64
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=SCHEDULE_MODAL,
        title="Schedule lessons" if plan is None else "Change schedule",
        submit="Save",
        close="Cancel",
        private_metadata=f"{plan.channel} {plan.path.id}" if plan else "",
        blocks=blocks,
    )


def on_schedule_button(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = presser(body)
    if not lessons.may_schedule(runtime, user, "the schedule form"):
        runtime.notify(HomeNotice(user, NOT_A_MANAGER))
        return
    plan = None
    if body["actions"][0]["action_id"] == SCHEDULE_CHANGE:
        plan = find_plan(runtime, str(body["actions"][0].get("value", "")))
        if plan is None:
            runtime.notify(HomeNotice(user, "That schedule no longer exists."))
            return
    modal = schedule_modal(runtime, plan, person_zone(runtime, client, user) or "UTC")
    client.views_open(trigger_id=body["trigger_id"], view=modal)


def on_schedule_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    if not lessons.may_schedule(runtime, user, "a schedule's form"):
        ack(response_action="errors", errors={TIME_BLOCK: NOT_A_MANAGER})
        return
    known = metadata_text(view)
    plan = find_plan(runtime, known) if known else None
    if known and plan is None:
        ack(response_action="errors", errors={TIME_BLOCK: "That schedule no longer exists."})
        return
    if plan is not None:
        channel, path = plan.channel, plan.path
    else:
        channel = str(entered(view, CHANNEL_BLOCK).get("selected_conversation") or "")
        chosen = entered(view, PATH_BLOCK).get("selected_option")
        value = chosen.get("value") if isinstance(chosen, dict) else None
        found = lessons.paths(runtime).get(value) if isinstance(value, str) else None
        if found is None:
            ack(response_action="errors", errors={PATH_BLOCK: "Choose a learning path."})
            return
        if not channel:
            ack(response_action="errors", errors={CHANNEL_BLOCK: "Choose a channel."})
            return
        path = found
    options = entered(view, DAYS_BLOCK).get("selected_options")
    picked_days = (
        small_number(option.get("value") if isinstance(option, dict) else None, 6)
        for option in (options if isinstance(options, list) else [])
    )
    asked = lessons.read_schedule(
        str(entered(view, TIME_BLOCK).get("selected_time") or ""),
        frozenset(day for day in picked_days if day is not None),
        typed_input(entered(view, ZONE_BLOCK).get("value")),
    )
    blocks = {
        lessons.SchedulePart.TIME: TIME_BLOCK,
        lessons.SchedulePart.DAYS: DAYS_BLOCK,
        lessons.SchedulePart.ZONE: ZONE_BLOCK,
    }
    errors = {blocks[part]: problem for part, problem in asked.problems.items()}
    problem = (
        channel_problem(client, channel, then=SCHEDULE_AGAIN, plain=True)
        if channel and plan is None
        else None
    )
    if problem:
        errors[CHANNEL_BLOCK] = problem
    if errors or asked.schedule is None:
        ack(response_action="errors", errors=errors)
        return
    ack()
    saved = save_schedule(runtime, user, channel, path, asked.schedule)
    runtime.notify(HomeNotice(user, saved))
    runtime.notify(HomeChanged(managers=True))


def on_pause_or_resume(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = presser(body)
    action = body["actions"][0]
    if not lessons.may_schedule(runtime, user, str(action.get("action_id"))):
        runtime.notify(HomeNotice(user, NOT_A_MANAGER))
        return
    plan = find_plan(runtime, action_value(body))
    if plan is None:
        runtime.notify(HomeNotice(user, "That schedule no longer exists."))
        return
    where = f"*{escape(plan.path.title)}* in <#{plan.channel}>"
    if action["action_id"] == SCHEDULE_PAUSE:
        change = lessons.pause_channel(
            runtime, channel=plan.channel, path_id=plan.path.id, manager=user
        )
    else:
        change = lessons.schedule_channel(
            runtime,
            manager=user,
            channel=plan.channel,
            path=plan.path,
            schedule=plan.schedule,
            now=runtime.clock.now(),
        )
    text = {
        ScheduleChange.PAUSED: f"Paused {where}.",
        ScheduleChange.NOT_FOUND: f"{where} was not running.",
        ScheduleChange.UPDATED: f"Resumed {where}: one lesson {plan.schedule.describe()}.",
        ScheduleChange.CREATED: f"Resumed {where}: one lesson {plan.schedule.describe()}.",
    }.get(change, NOT_A_MANAGER)
    runtime.notify(HomeNotice(user, text))
    runtime.notify(HomeChanged(managers=True))
