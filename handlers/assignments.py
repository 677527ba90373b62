"""Assigned learning in Slack: `/learn assign`, `/learn unassign`, `/learn assigned`, the
console's Assigned tab (its form and Unassign), the DM that tells each person once, and
Slack's events that change who is in a group or channel or in the workspace.

    /learn assign security-basics @support-team #onboarding @sam by 2026-12-31 why: We switch
        to the new ticket flow in January, and this is how we keep customers' data safe.

The line after `why:` is the manager's, kept as typed and shown (escaped) to each person in
the DM that tells them; `by` gives the due date (each person's own local day).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ConversationFilter,
    ConversationMultiSelectElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot import assignments, lessons
from bot.assignments import (
    CHANNEL,
    GROUP,
    JOINERS,
    JOURNEY,
    PERSON,
    UNASSIGNED,
    WHY_LENGTH,
    AssignmentSummary,
    Members,
    Outcome,
    Reached,
    SlackUnsureError,
    Target,
    Told,
    Unreadable,
)
from bot.content.lesson_paths import LearningPath
from bot.people import Person
from bot.runtime import Runtime
from bot.text import plural
from handlers import lessons as lesson_handlers
from handlers.blocks import (
    CHANNEL_LINK,
    HomeNotice,
    as_dicts,
    code,
    context,
    escape,
    mention,
    section,
    shorten,
    typed,
    typed_input,
    when,
)
from handlers.lessons import LEARN, person_zone
from handlers.listening import channel_of
from handlers.people import LookUpError, person, person_from_slack
from handlers.slack import dm, ephemeral, reply
from handlers.slash import HELP_WORDS
from handlers.values import entered, presser, row_id

log = logging.getLogger(__name__)

EXAMPLE = "/learn assign security-basics @support-team by 2026-12-31 why: …"
#: A person, a user group and a channel as Slack links them in a command's text.
PERSON_LINK = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
GROUP_LINK = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>$")
BROADCAST = re.compile(r"^<!(here|channel|everyone)(?:\|[^>]*)?>$")
#: A group's handle or a channel's name as typed, not linked.
HANDLE = re.compile(r"^@([a-z0-9][a-z0-9._-]{0,79})$")
CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9._-]{0,79})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WHY = re.compile(r"\bwhy:", re.IGNORECASE)
NOT_ALLOWED = "Only community managers, and a path's owners, can assign it or unassign it."
GONE = "That assignment no longer stands."
ASSIGN_ADD, UNASSIGN, ASSIGN_MODAL = "assign_add", "assign_remove", "assign_modal"
PATH_BLOCK, PEOPLE_BLOCK, GROUPS_BLOCK, CHANNELS_BLOCK, DUE_BLOCK, WHY_BLOCK = (
    "assign_path",
    "assign_people",
    "assign_groups",
    "assign_channels",
    "assign_due",
    "assign_why",
)


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """`/learn assign`, `unassign` and `assigned`; the console's form and Unassign; Slack's
    events for groups, channels and newcomers; and how assignments reach Slack."""
    lesson_handlers.SUBCOMMANDS.update(
        {"assign": learn_assign, "unassign": learn_unassign, "assigned": learn_assigned}
    )
    app.event("subteam_members_changed")(on_group_changed)
    # Eddy's own joins are help channels' (handlers/listening.py, registered before).
    app.event("member_joined_channel")(on_channel_joined)
    app.event("team_join")(on_team_join)
    app.action(ASSIGN_ADD)(on_assign_button)
    app.action(UNASSIGN)(on_unassign_button)
    app.view(ASSIGN_MODAL)(on_assign_submitted)
    runtime.assignment_slack = SlackAssignments(runtime, client)


# --- how assignments reach Slack ------------------------------------------------------------


class SlackAssignments:
    """Groups' and channels' members, who people are, and the DM that tells them."""

    def __init__(self, runtime: Runtime, client: WebClient) -> None:
        self.runtime, self.client = runtime, client

    def members(self, kind: str, target: str) -> Members | Unreadable:
        try:
            if kind == GROUP:
                found = self.client.usergroups_users_list(usergroup=target)
                return Members(tuple(str(user) for user in found.get("users") or []))
            listed: list[str] = []
            cursor = None
            while True:
                page = self.client.conversations_members(channel=target, limit=1000, cursor=cursor)
                listed += [str(user) for user in page.get("members") or []]
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return Members(tuple(listed))
        except SlackApiError as error:
            return Unreadable(str(error.response.get("error") or "an error"))
        except OSError as error:
            return Unreadable(f"no answer ({type(error).__name__})")

    def person(self, user_id: str) -> Person | None:
        try:
            return person(self.runtime, self.client, user_id)
        except LookUpError as error:
            raise SlackUnsureError(str(error)) from error

    def tell(self, told: Told) -> bool:
        text = told_text(told)
        blocks = [section(text), context(told_footer(told))]
        return dm(self.client, told.user_id, {"text": text, "blocks": as_dicts(blocks)}) is not None


def day_in_words(day: date) -> str:
    return day.strftime("%A %-d %B %Y")


def short_day(day: date) -> str:
    return day.strftime("%a %-d %b %Y")


def about(path: LearningPath) -> str:
    return f"{plural(len(path.lessons), 'lesson')}, about {plural(path.minutes, 'minute')} in all"


def told_text(told: Told) -> str:
    """The DM that tells a person, once, about a path assigned to them (or their journey's
    welcome, or that an assignment they had not begun no longer stands)."""
    title = f"*{escape(told.path.title)}*"
    if told.kind == UNASSIGNED:
        return (
            f"{title} is no longer assigned to you ({mention(told.assigned_by)} had assigned "
            f"it), so none of its lessons will come. If you'd like it anyway: "
            f"`/learn start {told.path.id}`."
        )
    if told.kind == JOURNEY:
        lines = [
            f"👋 Welcome aboard! To help you find your feet, {title} ({about(told.path)}) "
            "comes to you here, one short lesson a day, starting on your first working day."
        ]
    else:
        lines = [
            f"📚 {mention(told.assigned_by)} assigned you a learning path: {title} "
            f"({about(told.path)})."
        ]
    if told.why:
        lines.append(f"*Why it matters:* {escape(told.why)}")
    if told.due_on is not None and not told.completed:
        lines.append(f"*Please finish it by* {day_in_words(told.due_on)}.")
    if told.completed:
        lines.append("You completed it already, so there's nothing more to do. Well done!")
        return "\n".join(lines)
    if told.done:
        lines.append(
            f"You've done {told.done} of its {len(told.path.lessons)} lessons already: your "
            "progress stays."
        )
    if told.paused:
        lines.append(
            f"Your lessons are paused ({escape(told.paused)}): `/learn start {told.path.id}` "
            "starts them again."
        )
    elif told.schedule is not None:
        which = "next" if told.done else "first"
        first = f"; the {which} arrives {when(told.next_at)}" if told.next_at else ""
        lines.append(
            f"Lessons come at your lesson time, {told.schedule.describe()}{first}. "
            "Change the time with `/learn time`."
        )
    return "\n".join(lines)


def told_footer(told: Told) -> str:
    if told.kind == UNASSIGNED:
        return "`/learn paths` shows every path."
    return "`/learn me` shows your progress and what is assigned to you."


# --- reading whom a command names ----------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What `/learn assign` (or `unassign`) was asked: the path's words, the targets, the
    due date and the why line (as typed), or the problem with them."""

    path_words: str
    targets: tuple[Target, ...]
    due_on: date | None = None
    why: str | None = None
    problem: str | None = None


def read_targets(client: WebClient, text: str, *, dated: bool, tz: str, today: date) -> Asked:
    """Split a command's text (as Slack sends it) into path words, targets, `by <date>` and
    `why: <line>` (`dated`: assign; unassign takes neither)."""
    why = None
    found_why = WHY.search(text) if dated else None
    if found_why:
        why = typed(text[found_why.end() :]).strip()
        text = text[: found_why.start()]
        if not why:
            return Asked("", (), problem="Say why it matters after `why:`, or leave `why:` out.")
        if len(why) > WHY_LENGTH:
            return Asked(
                "",
                (),
                problem=f"The line after `why:` is {len(why):,} characters; keep it to "
                f"{WHY_LENGTH} or fewer.",
            )
    words = text.split()
    path_words: list[str] = []
    targets: list[Target] = []
    due_on: date | None = None
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        following = words[index] if index < len(words) else ""
        if dated and word.lower() == "by" and (targets or following[:1].isdigit()):
            if not following:
                return Asked("", (), problem="Give the due date after `by`, like 2026-12-31.")
            index += 1
            read = read_date(typed(following))
            if isinstance(read, str):
                return Asked("", (), problem=read)
            if read < today:
                return Asked(
                    "",
                    (),
                    problem=f"{read.isoformat()} is in the past (today is {today.isoformat()} "
                    f"in {escape(tz)}): choose today or a later day.",
                )
            due_on = read
            continue
        target = read_target(client, word)
        if isinstance(target, str):
            return Asked("", (), problem=target)
        if target is not None:
            targets.append(target)
        else:
            path_words.append(word)
    return Asked(" ".join(path_words), tuple(dict.fromkeys(targets)), due_on, why)


def read_date(word: str) -> date | str:
    """A due date as YYYY-MM-DD, or what is wrong with it."""
    shown = escape(shorten(word, 40))
    if not DATE.match(word):
        return f"“{shown}” is not a date I can read: write it as YYYY-MM-DD, like 2026-12-31."
    try:
        return date.fromisoformat(word)
    except ValueError:
        return f"There is no day {shown}: write the due date as YYYY-MM-DD, like 2026-12-31."


def read_target(client: WebClient, word: str) -> Target | str | None:
    """The person, group or channel a word names (None: not a target; text: a problem)."""
    if found := PERSON_LINK.match(word):
        return Target(PERSON, found[1])
    if found := GROUP_LINK.match(word):
        return Target(GROUP, found[1], f"@{found[2]}" if found[2] else "")
    if found := CHANNEL_LINK.match(word):
        label = word.partition("|")[2].rstrip(">")
        return Target(CHANNEL, found[1], f"#{label}" if label else "")
    if BROADCAST.match(word):
        return (
            f"I assign paths to people, user groups and channels, not to "
            f"{escape(typed(word))}: name a group or a channel instead."
        )
    plain = typed(word)
    if found := HANDLE.match(plain.lower()):
        group = group_of(client, found[1])
        if group is None:
            return (
                f"I can't find {escape(shorten(plain, 40))}: pick the person or the user group "
                "from Slack's list as you type @, so that it becomes a link."
            )
        return group
    if CHANNEL_NAME.match(plain.lower()):
        channel = channel_of(client, word)
        if channel is None:
            return (
                f"I can't find the channel {escape(shorten(plain, 40))}: pick it from Slack's "
                "list as you type #, so that it becomes a link."
            )
        return Target(CHANNEL, channel, plain.lower())
    return None


def group_of(client: WebClient, handle: str) -> Target | None:
    """The user group whose handle is `handle` (usergroups.list), or None."""
    try:
        found = client.usergroups_list()
    except SlackApiError as error:
        log.warning("Could not list user groups: %s", error.response.get("error"))
        return None
    for group in found.get("usergroups") or []:
        if str(group.get("handle") or "").lower() == handle:
            return Target(GROUP, str(group["id"]), f"@{group['handle']}")
    return None


def target_text(target: Target) -> str:
    """A target as mrkdwn: a person mentioned, a channel linked, a group by its handle
    (never a group mention, which would notify everyone in it)."""
    if target.kind == PERSON:
        return mention(target.id)
    if target.kind == CHANNEL:
        return f"<#{target.id}>"
    if target.kind == JOINERS:
        return "everyone who joins the workspace (an onboarding journey)"
    return escape(target.name or "a user group")


def targets_text(targets: tuple[Target, ...] | list[Target]) -> str:
    shown = [target_text(target) for target in targets]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


# --- /learn assign, unassign, assigned --------------------------------------------------------


def learn_assign(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    """`/learn assign <path> @person|@group|#channel … [by YYYY-MM-DD] [why: <a line>]`."""
    user = command["user_id"]
    if not rest:
        ack(**LEARN.reply(f"Which path, and to whom? Try {code(EXAMPLE)}."))
        return
    if rest.lower() in HELP_WORDS:
        ack(
            **LEARN.reply(
                "*/learn assign* — give a learning path to people, a user group or a "
                "channel's members (and whoever joins it later), with a due date (`by "
                "YYYY-MM-DD`) and a line on why it matters (everything after `why:`). Each "
                f"person is told once, by DM. For example: {code(EXAMPLE)}"
            )
        )
        return
    zone = person_zone(runtime, client, user) or "UTC"
    today = lessons.Schedule(zone).local_day(runtime.clock.now())
    asked = read_targets(client, rest, dated=True, tz=zone, today=today)
    found = check_asked(ack, runtime, user, asked, "assign")
    if found is None:
        return
    path, note = found
    result = assignments.assign(
        runtime,
        manager=user,
        path=path,
        targets=asked.targets,
        due_on=asked.due_on,
        why=asked.why,
        now=runtime.clock.now(),
    )
    if result.outcome is Outcome.NOT_ALLOWED:
        ack(**LEARN.reply(NOT_ALLOWED))
        return
    if result.outcome is Outcome.UNREADABLE:
        ack(**LEARN.reply(note + unreadable_text(result.unreadable)))
        return
    changed = asked.due_on is not None or asked.why is not None
    reply(ack, note + assigned_text(path, asked.targets, result, asked.due_on, changed))
    reached = assignments.reach(
        runtime, now=runtime.clock.now(), assignment_ids=result.assignment_ids
    )
    if reached.added or reached.told or reached.skipped or reached.later:
        ephemeral(client, command.get("channel_id", ""), user, reached_text(path, reached))


def check_asked(
    ack: Ack, runtime: Runtime, user: str, asked: Asked, verb: str
) -> tuple[LearningPath, str] | None:
    """The path, once the words name one and some targets and the person may assign it;
    else None, the reason acked with the usage."""
    if asked.problem:
        ack(**LEARN.reply(asked.problem))
        return None
    if not asked.path_words:
        ack(**LEARN.reply(f"Which path? Try {code(EXAMPLE)}."))
        return None
    found = lesson_handlers.resolve_path(ack, runtime, asked.path_words, verb)
    if found is None:
        return None
    path, note = found
    if not assignments.may_assign(runtime, user, path, f"/learn {verb}"):
        ack(**LEARN.reply(NOT_ALLOWED))
        return None
    if not asked.targets:
        ack(
            **LEARN.reply(
                f"{note}Whom to? Name people, a user group or a channel so that Slack links "
                f"them: {code(f'/learn {verb} {path.id} @support-team #onboarding')}."
            )
        )
        return None
    return path, note


def unreadable_text(unreadable: tuple[tuple[Target, str], ...]) -> str:
    lines = []
    for target, reason in unreadable:
        said = escape(shorten(reason, 60))
        if target.kind == GROUP:
            lines.append(f"I can't find the user group {target_text(target)} (Slack says {said}).")
        else:
            lines.append(
                f"I can't see the members of <#{target.id}> (Slack says {said}): if it's "
                "private, invite @Eddy there first."
            )
    return " ".join(lines) + " Nothing was assigned."


def assigned_text(
    path: LearningPath,
    targets: tuple[Target, ...],
    result: assignments.AssignResult,
    due_on: date | None,
    changed: bool,
) -> str:
    named = []
    for target in targets:
        size = result.sizes.get(target.id)
        members = f" ({plural(size, 'member')})" if size is not None else ""
        named.append(target_text(target) + members)
    due = f", to finish by {short_day(due_on)}" if due_on else ""
    renewed = ""
    if result.renewed:
        renewed = f" It was assigned to {targets_text(list(result.renewed))} already: " + (
            "the due date and why you gave replace theirs." if changed else "it stands."
        )
    return (
        f"Assigned *{escape(path.title)}* to {', '.join(named)}{due}.{renewed} I'm telling "
        "each person once, by DM, who assigned it and why; their lessons start at their own "
        "lesson time."
    )


def reached_text(path: LearningPath, reached: Reached) -> str:
    parts = [
        f"*{escape(path.title)}*: {plural(reached.added, 'person', 'people')} newly reached, "
        f"{len(reached.told)} told by DM"
    ]
    if reached.skipped:
        parts.append(
            f"{plural(reached.skipped, 'member')} left out (bots, single-channel guests, "
            "deactivated accounts)"
        )
    if reached.later:
        parts.append(
            f"{plural(reached.later, 'person', 'people')} to tell later (Slack would not let "
            "me now)"
        )
    return "; ".join(parts) + ". `/learn assigned` shows how everyone is doing."


def learn_unassign(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    """`/learn unassign <path> @person|@group|#channel …`."""
    user = command["user_id"]
    if not rest or rest.lower() in HELP_WORDS:
        ack(
            **LEARN.reply(
                "*/learn unassign* — take back a path assigned to people, a user group or a "
                "channel: who had begun it keeps it as their own choice. Which path, and from "
                f"whom? Try {code('/learn unassign security-basics @support-team')}."
            )
        )
        return
    asked = read_targets(client, rest, dated=False, tz="UTC", today=date.min)
    found = check_asked(ack, runtime, user, asked, "unassign")
    if found is None:
        return
    path, note = found
    result = assignments.unassign(
        runtime, manager=user, path=path, targets=asked.targets, now=runtime.clock.now()
    )
    if result.outcome is Outcome.NOT_ALLOWED:
        ack(**LEARN.reply(NOT_ALLOWED))
        return
    reply(ack, note + unassigned_text(path, result))


def unassigned_text(path: LearningPath, result: assignments.UnassignResult) -> str:
    title = f"*{escape(path.title)}*"
    parts = []
    if result.removed:
        parts.append(f"Unassigned {title} from {targets_text(list(result.removed))}.")
        if result.kept:
            keeps = "keeps" if result.kept == 1 else "keep"
            parts.append(
                f"{plural(result.kept, 'person', 'people')} who had begun it {keeps} it as "
                "their own choice, with their progress."
            )
        if result.stopped:
            parts.append(
                f"{plural(result.stopped, 'person', 'people')} who hadn't begun it won't get "
                "its lessons (and those I had told are told so)."
            )
    if result.missing:
        parts.append(f"{title} isn't assigned to {targets_text(list(result.missing))}.")
    return " ".join(parts)


def learn_assigned(
    ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any], rest: str
) -> None:
    """`/learn assigned [path]`: what stands, with how people are doing."""
    user = command["user_id"]
    path_id = None
    if rest.lower() in HELP_WORDS:
        ack(
            **LEARN.reply(
                "*/learn assigned* — the paths assigned to people, groups and channels, with "
                "how many they reached, completed and are overdue (community managers and a "
                "path's owners); for anyone else, what is assigned to them."
            )
        )
        return
    if rest:
        found = lesson_handlers.resolve_path(ack, runtime, rest, "assigned")
        if found is None:
            return
        path_id = found[0].id
    listed = assignments.listing(runtime, viewer=user, path_id=path_id, now=runtime.clock.now())
    if listed.mine:
        if not listed.assignments:
            reply(ack, "Nothing is assigned to you. `/learn paths` shows every path.")
            return
        lines = [f"• {mine_line(each)}" for each in listed.assignments]
        reply(ack, "*Assigned to you*\n" + "\n".join(lines))
        return
    if not listed.assignments:
        reply(ack, f"Nothing is assigned yet. Assign a path with {code(EXAMPLE)}.")
        return
    lines = [f"• {assignment_line(each)}" for each in listed.assignments[:40]]
    more = len(listed.assignments) - 40
    tail = f"\n…and {more} more: name a path to see its own." if more > 0 else ""
    reply(ack, "*Assigned learning*\n" + "\n".join(lines) + tail)


def mine_line(each: AssignmentSummary) -> str:
    by = "your onboarding" if each.target.kind == JOINERS else f"by {mention(each.assigned_by)}"
    due = f" · due {short_day(each.due_on)}" if each.due_on else ""
    return f"*{escape(each.path.title)}* · {by}{due}"


def assignment_line(each: AssignmentSummary) -> str:
    """One assignment with its figures: reached, completed, overdue."""
    due = f" · due {short_day(each.due_on)}" if each.due_on else " · no due date"
    figures = f"{plural(each.reached, 'person', 'people')} reached · {each.completed} completed"
    if each.due_on is not None:
        figures += f" · {each.overdue} overdue"
    if each.target.kind == JOINERS:
        state = "on" if each.journey_on else "off: the path no longer has assign_on_join"
        return f"*{escape(each.path.title)}* → {target_text(each.target)} ({state}) · {figures}"
    return (
        f"*{escape(each.path.title)}* → {target_text(each.target)}{due} · {figures} · "
        f"assigned by {mention(each.assigned_by)}"
    )


# --- Slack's events ---------------------------------------------------------------------------


def on_group_changed(event: dict[str, Any], runtime: Runtime) -> None:
    """People joined or left a user group: its assignments reach whoever joined."""
    group = str(event.get("subteam_id") or "")
    added = [str(user) for user in event.get("added_users") or [] if isinstance(user, str)]
    removed = [str(user) for user in event.get("removed_users") or [] if isinstance(user, str)]
    if group:
        assignments.members_changed(
            runtime,
            kind=GROUP,
            target=group,
            added=added,
            removed=removed,
            now=runtime.clock.now(),
        )


def on_channel_joined(event: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    """Someone joined a channel Eddy is in: the channel's assignments reach them."""
    user, channel = str(event.get("user") or ""), str(event.get("channel") or "")
    if user and channel and user != context.bot_user_id:
        assignments.members_changed(
            runtime, kind=CHANNEL, target=channel, added=[user], now=runtime.clock.now()
        )


def on_team_join(event: dict[str, Any], runtime: Runtime) -> None:
    """Someone joined the workspace: the onboarding journeys reach them."""
    user = event.get("user")
    if not isinstance(user, dict) or not user.get("id"):
        return
    newcomer = person_from_slack(user)
    runtime.people.remember(newcomer)
    assignments.welcome(runtime, newcomer, now=runtime.clock.now())


# --- the console's Assigned tab (App Home) ----------------------------------------------------


def assignment_item(each: AssignmentSummary) -> list[Block]:
    """An assignment in the console, with Unassign (asked to confirm); a journey has none
    (it follows the path's file)."""
    line = assignment_line(each)
    if each.why:
        line += f"\n_Why:_ {escape(shorten(each.why, 200))}"
    if each.target.kind == JOINERS:
        return [section(line)]
    remove = ButtonElement(
        text="Unassign",
        action_id=UNASSIGN,
        value=str(each.id),
        confirm=ConfirmObject(
            title="Unassign this path?",
            text=(
                "People who began it keep it as their own choice; those who hadn't won't get "
                "its lessons."
            ),
            confirm="Unassign",
            deny="Cancel",
        ),
    )
    return [SectionBlock(text=line, accessory=remove)]


def assign_modal(runtime: Runtime, user: str) -> View:
    """The form: a path, and people, user groups (by handle: Slack has no picker for them)
    and channels; a due date and why it matters, both optional."""
    allowed = sorted(
        (
            path
            for path in lessons.paths(runtime).values()
            if runtime.is_manager(user) or user in path.owners
        ),
        key=lambda path: path.title,
    )
    return View(
        type="modal",
        callback_id=ASSIGN_MODAL,
        title="Assign a path",
        submit="Assign",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=PATH_BLOCK,
                label="Learning path",
                element=StaticSelectElement(
                    action_id=PATH_BLOCK,
                    options=[
                        Option(text=shorten(path.title, 75), value=path.id)
                        for path in allowed[:100]
                    ],
                ),
            ),
            InputBlock(
                block_id=PEOPLE_BLOCK,
                label="People",
                optional=True,
                element=UserMultiSelectElement(action_id=PEOPLE_BLOCK),
            ),
            InputBlock(
                block_id=GROUPS_BLOCK,
                label="User groups",
                optional=True,
                hint="Their handles, like @support-team @sales (people who join later get it too).",
                element=PlainTextInputElement(action_id=GROUPS_BLOCK, max_length=500),
            ),
            InputBlock(
                block_id=CHANNELS_BLOCK,
                label="Channels",
                optional=True,
                hint="Everyone in them, and whoever joins later.",
                element=ConversationMultiSelectElement(
                    action_id=CHANNELS_BLOCK,
                    filter=ConversationFilter(
                        include=["public", "private"], exclude_bot_users=True
                    ),
                ),
            ),
            InputBlock(
                block_id=DUE_BLOCK,
                label="Finish by",
                optional=True,
                element=DatePickerElement(action_id=DUE_BLOCK),
            ),
            InputBlock(
                block_id=WHY_BLOCK,
                label="Why it matters",
                optional=True,
                hint="One line each person reads in the DM that tells them.",
                element=PlainTextInputElement(
                    action_id=WHY_BLOCK, multiline=True, max_length=WHY_LENGTH
                ),
            ),
        ],
    )


def on_assign_button(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = presser(body)
    if not assignments.manages_any(runtime, user):
        assignments.may_assign(runtime, user, None, "the assign form")
        runtime.notify(HomeNotice(user, NOT_ALLOWED))
        return
    client.views_open(trigger_id=body["trigger_id"], view=assign_modal(runtime, user))


def on_unassign_button(ack: Ack, body: dict[str, Any], runtime: Runtime) -> None:
    ack()
    user = presser(body)
    value = (body.get("actions") or [{}])[0].get("value")
    assignment_id = row_id(value)
    now = runtime.clock.now()
    found = assignments.standing_one(runtime, assignment_id or 0)
    if found is None:
        runtime.notify(HomeNotice(user, GONE))
        return
    result = assignments.unassign(
        runtime, manager=user, path=found.path, targets=[found.target], now=now
    )
    if result.outcome is Outcome.NOT_ALLOWED:
        runtime.notify(HomeNotice(user, NOT_ALLOWED))
        return
    if result.outcome is Outcome.NOT_FOUND:
        runtime.notify(HomeNotice(user, GONE))
        return
    runtime.notify(HomeNotice(user, unassigned_text(found.path, result)))


def on_assign_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    chosen = entered(view, PATH_BLOCK).get("selected_option")
    value = chosen.get("value") if isinstance(chosen, dict) else None
    path = lessons.paths(runtime).get(value) if isinstance(value, str) else None
    if path is None:
        ack(response_action="errors", errors={PATH_BLOCK: "Choose a learning path."})
        return
    if not assignments.may_assign(runtime, user, path, "the assign form"):
        ack(response_action="errors", errors={PATH_BLOCK: NOT_ALLOWED})
        return
    errors: dict[str, str] = {}
    targets: list[Target] = []
    people = entered(view, PEOPLE_BLOCK).get("selected_users")
    targets += [Target(PERSON, str(p)) for p in people or [] if isinstance(p, str)]
    for handle in typed_input(entered(view, GROUPS_BLOCK).get("value")).replace(",", " ").split():
        group = group_of(client, handle.lstrip("@").lower())
        if group is None:
            errors[GROUPS_BLOCK] = f"There is no user group {shorten(handle, 40)}."
            break
        targets.append(group)
    channels = entered(view, CHANNELS_BLOCK).get("selected_conversations")
    targets += [Target(CHANNEL, str(c)) for c in channels or [] if isinstance(c, str)]
    due_on = None
    picked = entered(view, DUE_BLOCK).get("selected_date")
    if isinstance(picked, str) and picked:
        due = read_date(picked)
        zone = person_zone(runtime, client, user) or "UTC"
        today = lessons.Schedule(zone).local_day(runtime.clock.now())
        if isinstance(due, str):
            errors[DUE_BLOCK] = "Pick a day in the calendar."
        elif due < today:
            errors[DUE_BLOCK] = "That day is in the past: choose today or a later day."
        else:
            due_on = due
    why = typed_input(entered(view, WHY_BLOCK).get("value")).strip() or None
    if why is not None and len(why) > WHY_LENGTH:
        errors[WHY_BLOCK] = f"At most {WHY_LENGTH} characters, please."
    if not targets and not errors:
        errors[PEOPLE_BLOCK] = "Choose people, user groups or channels."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    result = assignments.assign(
        runtime,
        manager=user,
        path=path,
        targets=targets,
        due_on=due_on,
        why=why,
        now=runtime.clock.now(),
    )
    if result.outcome is Outcome.UNREADABLE:
        problems = {
            GROUPS_BLOCK if target.kind == GROUP else CHANNELS_BLOCK: f"Slack says {reason}."
            for target, reason in result.unreadable
        }
        ack(response_action="errors", errors=problems)
        return
    ack()
    changed = due_on is not None or why is not None
    assigned = assigned_text(path, tuple(targets), result, due_on, changed)
    reached = assignments.reach(
        runtime, now=runtime.clock.now(), assignment_ids=result.assignment_ids
    )
    runtime.notify(HomeNotice(user, f"{assigned}\n{reached_text(path, reached)}"))
