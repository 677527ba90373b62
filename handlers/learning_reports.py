"""Team reports in the Home console's Learning tab: a path, optionally a team, and how its
people are doing (bot/learning_reports.py counts; this draws it and asks Slack who is in a
team). The tab's listeners are navigation and live with the others in handlers/home.py.

    team = team_members(runtime, client, "@support-team")   # Team(…), or None: no such group
    blocks = report_blocks(runtime, "U0ALEX001", state)
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig

from bot import learning_reports
from bot.home import HomeState
from bot.learning_reports import (
    ASSIGNED,
    BEHIND,
    CHANNEL,
    COMPLETED,
    ENOUGH_ANSWERS,
    GROUP,
    JOURNEY,
    ON_TRACK,
    OVERDUE,
    RECENT_LESSON_DAYS,
    SELF,
    PathReport,
    Team,
)
from bot.runtime import Runtime
from bot.text import plural
from handlers.blocks import (
    CHANNEL_LINK,
    button,
    context,
    escape,
    mention,
    meter,
    section,
    sections,
    shorten,
)

log = logging.getLogger(__name__)

LEARNING_TAB = "learning"
REPORT_PATH, REPORT_TEAM, REPORT_EVERYONE = (
    "home_report_path",
    "home_report_team",
    "home_report_everyone",
)
TEAM_BLOCK = "home_report_team"
#: Longer than any user group handle or channel name Slack allows (80 characters).
TEAM_WORDS_LIMIT = 100
#: Slack's limits: options in a static_select, and an option's text.
OPTIONS_LIMIT = 100
OPTION_TEXT_LIMIT = 75
#: People named in a list of who is overdue or behind, at most (the rest are counted).
NAMED = 10
#: Pages asked of Slack for one team, at most (1,000 a page).
PAGES_LIMIT = 50
GROUP_MENTION = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>$")
ORIGIN_WORDS = {ASSIGNED: "assigned", JOURNEY: "on joining", SELF: "chose it"}
NOT_FOUND = ("no_such_subteam", "channel_not_found", "subteam_not_found")


class TeamLookUpError(Exception):
    """Slack could not say who is in a team right now; `str(error)` is one sentence."""


# --- teams --------------------------------------------------------------------------------------


def team_members(runtime: Runtime, client: WebClient, words: str) -> Team | None:
    """The team `words` name: a user group (`@support-team`, or Slack's `<!subteam^S…>`) or a
    channel's members (`#support`, or `<#C…>`), as Slack says now; None when Slack knows no
    such group or channel (or the words name neither). Raises TeamLookUpError when Slack
    cannot answer.

    The one place reports learn who is in a team: the assignments' cached members can take
    its place without the callers changing."""
    words = words.strip()
    try:
        if found := GROUP_MENTION.fullmatch(words):
            return _group(client, group_id=found[1])
        if found := CHANNEL_LINK.fullmatch(words):
            return _channel(client, channel_id=found[1])
        if words.startswith("@") and len(words) > 1:
            return _group(client, handle=words[1:].lower())
        if words.startswith("#") and len(words) > 1:
            return _channel(client, name=words[1:].lower())
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code in NOT_FOUND:
            return None
        log.warning("Slack could not say who is in %r: %s", words[:80], code)
        if code == "missing_scope":
            needed = str(error.response.get("needed") or "usergroups:read")
            raise TeamLookUpError(
                f"Eddy needs Slack's {needed} permission to see who is in a team: reinstall "
                "the app from manifest.yml."
            ) from error
        raise TeamLookUpError(
            f"Slack could not say who is in it ({code}); try again later."
        ) from error
    except OSError as error:
        log.warning("Could not reach Slack to ask who is in %r", words[:80], exc_info=True)
        raise TeamLookUpError(
            "I could not reach Slack to ask who is in it; try again later."
        ) from error
    return None


def _group(client: WebClient, *, group_id: str = "", handle: str = "") -> Team | None:
    groups = client.usergroups_list()["usergroups"]
    found = next(
        (
            group
            for group in groups
            if group.get("id") == group_id or str(group.get("handle", "")).lower() == handle
        ),
        None,
    )
    if found is None:
        return None
    members = client.usergroups_users_list(usergroup=found["id"])["users"]
    return Team(GROUP, str(found["id"]), f"@{found.get('handle')}", frozenset(members))


def _channel(client: WebClient, *, channel_id: str = "", name: str = "") -> Team | None:
    if channel_id:
        found = client.conversations_info(channel=channel_id)["channel"]
    else:
        found = _channel_named(client, name)
    if found is None:
        return None
    members: set[str] = set()
    cursor = ""
    for _ in range(PAGES_LIMIT):
        page = client.conversations_members(channel=found["id"], limit=1000, cursor=cursor)
        members.update(page["members"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return Team(CHANNEL, str(found["id"]), f"#{found.get('name')}", frozenset(members))


def _channel_named(client: WebClient, name: str) -> dict[str, Any] | None:
    cursor = ""
    for _ in range(PAGES_LIMIT):
        page = client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=1000,
            cursor=cursor,
        )
        for channel in page["channels"]:
            if str(channel.get("name", "")).lower() == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return None


# --- drawing ------------------------------------------------------------------------------------


def chosen_team(state: HomeState) -> Team | None:
    return Team.from_stored(state.report.get("team"))


def report_blocks(runtime: Runtime, user: str, state: HomeState) -> list[Block]:
    """The Learning tab: the chooser, then the chosen path's report for `user` (who sees
    only the paths they may: every path for a manager, their own for a path's owner)."""
    offered = learning_reports.reportable_paths(runtime, user)
    blocks: list[Block] = [
        section("*Learning reports*: how the people on a path are doing, for everyone or a team.")
    ]
    if not offered:
        return [*blocks, context("There are no learning paths yet: add one to content/lessons/.")]
    wanted = str(state.report.get("path") or "")
    path = next((each for each in offered if each.id == wanted), None)
    path = path or learning_reports.busiest(runtime, offered) or offered[0]
    team = chosen_team(state)
    options = [
        Option(value=each.id, text=shorten(each.title, OPTION_TEXT_LIMIT))
        for each in offered[:OPTIONS_LIMIT]
    ]
    chosen = next((option for option in options if option.value == path.id), options[0])
    chooser: list[Any] = [
        StaticSelectElement(
            action_id=REPORT_PATH,
            placeholder="Choose a path",
            options=options,
            initial_option=chosen,
        )
    ]
    if team is not None:
        chooser.append(button("Everyone", REPORT_EVERYONE, "all"))
    blocks += [
        ActionsBlock(block_id="home_report", elements=chooser),
        InputBlock(
            block_id=TEAM_BLOCK,
            label="Team",
            optional=True,
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=REPORT_TEAM,
                placeholder="@support-team or #support, then Enter",
                max_length=TEAM_WORDS_LIMIT,
                dispatch_action_config=DispatchActionConfig(
                    trigger_actions_on=["on_enter_pressed"]
                ),
            ),
        ),
    ]
    found = learning_reports.report(runtime, path, team=team, now=runtime.clock.now())
    return [*blocks, DividerBlock(), *figures_blocks(found)]


def figures_blocks(found: PathReport) -> list[Block]:
    """The report itself: standings, the quiz items hardest first, the funnel."""
    who = "everyone" if found.team is None else team_words(found.team)
    title = escape(shorten(found.path.title, 150))
    blocks: list[Block] = [section(f"*{title}* · {who}")]
    if not found.people:
        nobody = "Nobody is on this path yet" if found.team is None else "Nobody in it is on it"
        left = (
            f" ({plural(found.left, 'person')} left it before completing it)" if found.left else ""
        )
        return [*blocks, section(f"{nobody}{left}."), *items_blocks(found)]
    origins = " · ".join(
        f"{count} {ORIGIN_WORDS[origin]}" for origin, count in found.by_origin().items() if count
    )
    enrolled = found.enrolled
    completed = found.count(COMPLETED)
    paused = f" ({found.paused} paused)" if found.paused else ""
    median = f"{found.median_days:.1f} days" if found.median_days is not None else "— (none yet)"
    blocks.append(
        section(
            f"*Enrolled:* {enrolled} ({origins})\n"
            f"*Completed:* {completed} ({completed / enrolled:.0%}) · "
            f"*On track:* {found.count(ON_TRACK)} · *Behind:* {found.count(BEHIND)}{paused} · "
            f"*Overdue:* {found.count(OVERDUE)}\n"
            f"*Median time to complete:* {median}"
        )
    )
    named = [
        f"*{label}:* {people_list(found.who(standing))}"
        for label, standing in (("Overdue", OVERDUE), ("Behind", BEHIND))
        if found.who(standing)
    ]
    if named:
        blocks.append(section("\n".join(named)))
    notes = [
        f"On track: keeping pace with their due date, or, without one, active on the path in "
        f"their last {RECENT_LESSON_DAYS} lesson days. Lessons skipped as known count as done."
    ]
    if found.left:
        notes.append(f"{plural(found.left, 'person')} left the path before completing it.")
    blocks.append(context(*notes))
    blocks += items_blocks(found)
    blocks += funnel_blocks(found)
    return blocks


def team_words(team: Team) -> str:
    return f"{escape(shorten(team.name, 100))} ({plural(len(team.members), 'member')})"


def people_list(user_ids: list[str]) -> str:
    shown = ", ".join(mention(user) for user in user_ids[:NAMED])
    more = len(user_ids) - NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def items_blocks(found: PathReport) -> list[Block]:
    if not found.items:
        return []
    lines = []
    for item in found.items:
        question = item.lesson.quiz.question if item.lesson.quiz else ""
        what = (
            f"lesson {item.number}, _{escape(shorten(item.lesson.title, 60))}_: "
            f"“{escape(shorten(question, 120))}”"
        )
        if item.enough and item.accuracy is not None:
            lines.append(
                f"`{meter(item.right, item.answers, width=5)}` *{item.accuracy:.0%}* right of "
                f"{plural(item.answers, 'answer')} · {what}"
            )
        else:
            lines.append(f"_too few answers to judge ({item.answers})_ · {what}")
    heading = (
        "*Quiz items, hardest first* · each person's first answer (reviews left out); "
        f"fewer than {ENOUGH_ANSWERS} answers are too few to judge"
    )
    return [DividerBlock(), section(heading), *sections("\n".join(lines))]


def funnel_blocks(found: PathReport) -> list[Block]:
    lines = []
    for step in found.funnel:
        known = f" ({step.known} known)" if step.known else ""
        title = escape(shorten(step.lesson.title, 80))
        lines.append(
            f"{step.number}. `{meter(step.done, found.enrolled, width=10)}` "
            f"{step.done} of {found.enrolled} done{known} · {title}"
        )
    heading = "*Lesson by lesson* · known: skipped by someone who showed they knew it"
    return [DividerBlock(), section(heading), *sections("\n".join(lines))]
