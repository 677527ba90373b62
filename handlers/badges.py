"""Reaction badges, Slack-facing: reaction events, `/badges`, and telling people about badges.

Reaction events are acknowledged by Bolt at once, before any database write, and handled in
the worker pool; `bot.badges` recognises a Slack retry in the transaction that applies the
event. Who gave and who wrote comes from `runtime.people` (users.info, remembered), so a burst
of reactions costs Slack few calls.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import badges
from bot.badges import BadgeEarned, Board, Period, Reaction, Result, Standing
from bot.content.badge_rules import BadgeRules
from bot.runtime import Runtime
from handlers.blocks import as_dicts, context, escape, mention, meter, section, when
from handlers.people import LookUpError, person
from handlers.slack import dm
from handlers.slash import SlashCommand

log = logging.getLogger(__name__)

BADGES = SlashCommand(
    "/badges",
    "Points and badges for the people whose messages help others.",
    ("/badges", "/badges @someone", "/badges top [week|month|all]"),
)
#: A mention as Slack escapes it in a command's text: <@U0123ABCD> or <@U0123ABCD|name>.
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
PERIOD_WORDS = {
    "week": Period.WEEK,
    "month": Period.MONTH,
    "all": Period.ALL,
    "ever": Period.ALL,
    "all-time": Period.ALL,
}
PERIOD_TITLES = {Period.WEEK: "this week", Period.MONTH: "this month", Period.ALL: "of all time"}


#: Events whose Slack retries bot.badges recognises itself (see handlers.create_app).
REACTION_EVENTS = ("reaction_added", "reaction_removed")


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Badges' listeners, and the congratulations for the badges people earn (reactions and
    other capabilities alike)."""
    app.command(BADGES.name)(on_badges_command)
    for event in REACTION_EVENTS:
        app.event(event)(on_reaction)
    runtime.listen(BadgeEarned, lambda notice: congratulate(client, notice))


# --- reactions ------------------------------------------------------------------------------


def on_reaction(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
        return  # a file or file comment: not a message anyone wrote to help
    reaction = Reaction(
        giver=str(event["user"]),
        author=event.get("item_user"),
        emoji=str(event["reaction"]),
        channel=str(item.get("channel") or ""),
        message_ts=str(item.get("ts") or ""),
        event_ts=str(event.get("event_ts") or ""),
        event_id=str(body.get("event_id") or ""),
        added=event.get("type") == "reaction_added",
    )
    if reaction.added and badges.rules(runtime).rule_for(reaction.emoji) is None:
        return  # gives nothing: not worth asking Slack who anyone is
    try:
        giver = person(runtime, client, reaction.giver)
        receiver = person(runtime, client, reaction.author) if reaction.author else None
    except LookUpError as error:
        log.warning("Reaction %s not counted: Slack could not say who (%s)", reaction, error)
        return
    outcome = badges.react(runtime, reaction, giver=giver, receiver=receiver)
    log.debug("Reaction %s: %s %s", reaction, outcome.result, outcome.why)
    if outcome.result == Result.OVER_BUDGET and outcome.tell_giver:
        over_budget(client, reaction, outcome.budget)


def over_budget(client: WebClient, reaction: Reaction, budget: int) -> None:
    """A quiet note to the giver, where they reacted (once a day)."""
    text = (
        f"You've given your {budget} points for today — thank you for recognising so many "
        "colleagues! Your reactions still show, and they'll give points again after "
        "midnight, your time."
    )
    try:
        client.chat_postEphemeral(
            channel=reaction.channel,
            user=reaction.giver,
            text=text,
            blocks=as_dicts([context(text)]),
        )
    except SlackApiError as error:
        log.info("Could not tell %s about their budget: %s", reaction.giver, error)


def congratulate(client: WebClient, notice: BadgeEarned) -> None:
    badge = notice.badge
    dm(
        client,
        notice.user_id,
        f":{badge.emoji}: You earned the *{escape(badge.name)}* badge — "
        f"{escape(badge.criterion())}. {escape(badge.description)}\n"
        "`/badges` shows your points and what's next.",
    )
    if notice.shout_out_channel is None:
        return
    text = (
        f":{badge.emoji}: <@{notice.user_id}> earned *{escape(badge.name)}*: "
        f"{escape(badge.description)}"
    )
    try:
        client.chat_postMessage(channel=notice.shout_out_channel, text=text)
    except SlackApiError as error:
        log.warning(
            "Could not post the shout-out in %s: %s",
            notice.shout_out_channel,
            error.response.get("error"),
        )


# --- /badges --------------------------------------------------------------------------------


def on_badges_command(
    ack: Ack, command: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    text = command.get("text", "").strip()
    screened = BADGES.screen(text)
    if screened is not None:
        ack(**screened)
        return
    current = badges.rules(runtime)
    if not current.points:
        ack(
            **BADGES.reply(
                "Reaction points are not set up yet: a community manager adds them to "
                "`content/badges.yml`."
            )
        )
        return
    viewer = command["user_id"]
    verb, _, rest = text.partition(" ")
    if not text or verb.lower() == "me":
        show(ack, standing_blocks(badges.standing(runtime, viewer), current, own=True))
    elif verb.lower() in ("top", "leaderboard"):
        period = PERIOD_WORDS.get(rest.strip().lower() or "week")
        if period is None or len(rest.split()) > 1:
            ack(**BADGES.reply("`/badges top` takes `week`, `month` or `all`."))
            return
        show(ack, board_blocks(badges.top(runtime, period), viewer, current))
    elif (mention := MENTION.match(text)) is not None:
        show_someone(ack, runtime, client, mention.group(1), viewer, current)
    elif MENTION.match(verb) is not None and any(MENTION.match(w) for w in rest.split()[:1]):
        ack(**BADGES.reply("One person at a time: `/badges @someone`."))
    elif MENTION.match(verb) is not None:
        ack(**BADGES.unknown(rest))
    else:
        ack(**BADGES.unknown(text))


def show_someone(
    ack: Ack, runtime: Runtime, client: WebClient, user_id: str, viewer: str, current: BadgeRules
) -> None:
    try:
        found = person(runtime, client, user_id)
    except LookUpError:
        ack(**BADGES.reply("Slack didn't tell me who that is just now; try again in a minute."))
        return
    if found is None:
        ack(**BADGES.reply("I can't find that person in this workspace."))
    elif not found.is_human:
        ack(**BADGES.reply(f"<@{user_id}> is a bot; bots don't collect points."))
    else:
        own = user_id == viewer
        show(ack, standing_blocks(badges.standing(runtime, user_id), current, own=own))


def show(ack: Ack, lines: list[str]) -> None:
    *body, footer = lines
    text = "\n".join(body)
    ack(text=text, blocks=as_dicts([section(text), context(footer)]))


def standing_blocks(standing: Standing, current: BadgeRules, *, own: bool) -> list[str]:
    """The lines of a person's standing; the last one is a small-print footer."""
    whose = "Your" if own else f"{mention(standing.user_id)}'s"
    lines = [f"*{whose} points: {standing.points:,}* ({standing.points_this_week:,} this week)"]
    if standing.rank is not None:
        lines[0] += f" · #{standing.rank} of {standing.ranked} in the workspace"
    if standing.badges:
        earned = " · ".join(f":{b.emoji}: {escape(b.name)}" for b in standing.badges)
        lines.append(f"*Badges ({len(standing.badges)}):* {earned}")
    else:
        lines.append("*Badges:* none yet")
    upcoming = standing.next_badge
    if upcoming is not None:
        badge = upcoming.badge
        lines.append(
            f"*Next within reach:* :{badge.emoji}: *{escape(badge.name)}* — "
            f"{escape(badge.criterion())} {meter(upcoming.have, badge.threshold, width=10)} "
            f"{upcoming.have:,}/{badge.threshold:,}"
        )
    if standing.points_by_emoji:
        ordered = sorted(standing.points_by_emoji.items(), key=lambda pair: (-pair[1], pair[0]))
        lines.append("*By reaction:* " + " · ".join(f":{e}: {p:,}" for e, p in ordered))
    lines.append(how_it_works(current))
    return lines


def how_it_works(current: BadgeRules) -> str:
    rules = ", ".join(
        f":{rule.key}: {rule.points}" + (f" ({escape(rule.means)})" if rule.means else "")
        for rule in current.points
    )
    return (
        f"React to a helpful message to give its author points: {rules}. Everyone can give "
        f"{current.daily_budget} points a day; your own messages and bots' don't count."
    )


def board_blocks(board: Board, viewer: str, current: BadgeRules) -> list[str]:
    title = f"*Top helpers {PERIOD_TITLES[board.period]}*"
    if board.since is not None:
        title += f", since {when(board.since)}"
    lines = [title]
    if not board.leaders:
        when_given = "" if board.period is Period.ALL else f" {PERIOD_TITLES[board.period]}"
        lines.append(f"Nobody has received points{when_given} yet.")
    medals = {1: ":first_place_medal:", 2: ":second_place_medal:", 3: ":third_place_medal:"}
    for place, (user_id, points) in enumerate(board.leaders, start=1):
        lines.append(f"{medals.get(place, f'{place}.')} {mention(user_id)} — {points:,} points")
    mine = board.place_of(viewer)
    if mine is not None and mine > len(board.leaders):
        have = board.everyone[mine - 1][1]
        lines.append(f"You: #{mine} of {len(board.everyone)} with {have:,} points")
    lines.append(how_it_works(current))
    return lines
