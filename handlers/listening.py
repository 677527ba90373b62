"""Help channels: `/ask listen #channel`, `/ask listen off #channel`, `/ask listening`; the
questions people post there (answered in their thread when Eddy is sure), the answer's
buttons, the asker's dismiss emoji, edits and deletions, the offer to turn listening on when
Eddy is invited, and the follow-up DM to an asker nobody answered."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot import listening
from bot.ask import Rating
from bot.listening import Change, FollowUp, Listening, Picked, Taken
from bot.networks import Post, Routed, topics
from bot.runtime import HomeChanged, Runtime
from bot.text import plural
from handlers import ask
from handlers.ask import ASK_EXPERTS, RATED_REPLY, answer_message
from handlers.blocks import (
    CHANNEL_LINK,
    HomeNotice,
    as_dicts,
    button,
    code,
    context,
    escape,
    mention,
    notice,
    searchable,
    section,
    shorten,
    typed,
    typed_input,
)
from handlers.errors import afterwards
from handlers.forms import channel_select, whole_number
from handlers.slack import channel_problem, dm, post_in_thread
from handlers.slash import HELP_WORDS
from handlers.values import (
    action_value,
    answer_presser,
    can_respond,
    entered,
    metadata_text,
    pressed_id,
    presser,
    small_number,
)

log = logging.getLogger(__name__)

CHANNEL_HELPFUL = "listen_helpful"
CHANNEL_NOT_HELPFUL = "listen_not_helpful"
TURN_ON = "listen_turn_on"
USAGE = (
    "/ask listen #channel [wait 30m] [limit 20] [emoji :x:]",
    "/ask listen off #channel",
    "/ask listening",
)
#: A channel named by its ID, or by its name as typed (`#it-help`); Slack's link is
#: `handlers.blocks.CHANNEL_LINK`.
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,}$")
CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9._-]{0,79})$")
#: Who else a message is for: a person, a group, a broadcast (`@here`): not Eddy's to answer.
ADDRESSED = re.compile(r"<(?:@[UW]|!subteam|!here|!channel|!everyone)")
OPTIONS = ("wait", "limit", "emoji")
MINUTES = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?)?$")
HOURS = re.compile(r"^(\d{1,2})\s*(h|hr|hrs|hours?)$")
EMOJI = re.compile(r"^:?([a-z0-9_+'-]{1,90}):?$")
#: What the presser of an answer's button in a channel is told (Not helpful takes the answer
#: away and says nothing more).
CHANNEL_REPLY = {
    Rating.LEARNED: RATED_REPLY[Rating.LEARNED],
    Rating.THANKED: RATED_REPLY[Rating.THANKED],
    Rating.ALREADY: "This answer has already been rated. Thanks!",
    Rating.GONE: "That answer is no longer there.",
}
LISTEN_AGAIN = "run /ask listen again"
ONLY_CHANNELS = "I listen only in channels. Here, just send me your question."
NOT_A_MANAGER = (
    "Only community managers, or the managers of the topic whose channel it is, can choose "
    "where I listen."
)


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Listening's listeners. They come first: the asker's dismiss emoji is taken here before
    the badges see reactions (it gives no points: nobody gets points from Eddy's messages or
    their own), and thread replies are noted and passed on to the other listeners."""
    ask.SUBCOMMANDS.update({"listen": on_listen, "listening": on_listening})
    app.event("reaction_added", middleware=[only_dismissals])(on_dismissed)
    app.event("message", middleware=[only_listened_channels])(on_channel_message)
    app.event("member_joined_channel", matchers=[eddy_joined])(on_member_joined)
    app.action(CHANNEL_HELPFUL)(on_channel_rate)
    app.action(CHANNEL_NOT_HELPFUL)(on_channel_rate)
    app.action(TURN_ON)(on_turn_on)
    runtime.listen(FollowUp, lambda offer: send_follow_up(runtime, client, offer))
    register_console(app)


# --- /ask listen, /ask listening ----------------------------------------------------------


def usage(text: str) -> dict[str, Any]:
    """A reply to `/ask listen…` that ends with listening's usage line."""
    lines = ["*Usage:* " + " · ".join(code(line) for line in USAGE)]
    return {"text": text, "blocks": notice(text, usage=lines)}


def describe(settings: Listening) -> str:
    return (
        f"<#{settings.channel_id}>: answers at most {settings.hourly_limit} an hour; offers "
        f"the experts after {plural(settings.follow_up_minutes, 'minute')} without a reply; "
        f"the asker's :{settings.dismiss_emoji}: takes my answer away "
        f"(turned on by {mention(settings.turned_on_by)})"
    )


def on_listening(
    runtime: Runtime, client: WebClient, command: dict[str, Any], words: list[str]
) -> dict[str, Any] | None:
    """`/ask listening`: where and how Eddy listens."""
    if words:
        return None
    found = listening.channels(runtime)
    if not found:
        return usage(
            "I'm not listening in any channel. A community manager can turn it on with "
            f"{code('/ask listen #channel')}."
        )
    lines = "\n".join(f"• {describe(settings)}" for settings in found)
    return usage(f"I answer questions without being mentioned in:\n{lines}")


def on_listen(
    runtime: Runtime, client: WebClient, command: dict[str, Any], words: list[str]
) -> dict[str, Any] | None:
    """`/ask listen [off] [#channel] [wait 30m] [limit 20] [emoji :x:]`; None when the words
    read as a question after all ("listen to music at work?")."""
    user = command["user_id"]
    if words and words[0].lower() in HELP_WORDS:
        return usage(
            "*/ask listen* — let me answer the questions people post in a help channel, "
            "without being mentioned: only when I'm sure, in the question's thread."
        )
    off = bool(words) and words[0].lower() == "off"
    rest = words[1:] if off else words
    channel, options = str(command.get("channel_id") or ""), rest
    first = rest[0] if rest else ""
    if first.lower() == "here":
        options = rest[1:]
    elif first.startswith(("#", "<#")) or CHANNEL_ID.match(first):
        found = channel_of(client, first)
        if found is None:
            return usage(
                f"I can't find the channel {code(shorten(typed(first), 80))}. Pick it from "
                "Slack's list as you type # so that it becomes a link."
            )
        channel, options = found, rest[1:]
    elif first and first.lower() not in OPTIONS and not off:
        return None
    if not listening.allowed(runtime, user, channel, "/ask listen"):
        return usage(NOT_A_MANAGER)
    if off:
        if options:
            return usage(f"{code('/ask listen off')} takes only the channel.")
        change = listening.turn_off(runtime, user_id=user, channel_id=channel)
        if change is Change.NOT_LISTENING:
            return usage(f"I wasn't listening in <#{channel}>.")
        return usage(f"Done: I no longer answer questions in <#{channel}> unless mentioned.")
    chosen = read_options(options)
    if isinstance(chosen, str):
        return usage(chosen)
    problem = channel_problem(client, channel, then=LISTEN_AGAIN, not_a_dm=ONLY_CHANNELS)
    if problem:
        return usage(problem)
    change = listening.turn_on(runtime, user_id=user, channel_id=channel, **chosen)
    settings = listening.channel(runtime, channel)
    if change is Change.NOT_ALLOWED or settings is None:
        return usage(NOT_A_MANAGER)
    first = "Done: I'm listening in" if change is Change.ON else "Updated: I'm listening in"
    return usage(
        f"{first} <#{channel}>. I answer there only when I'm sure, in the question's thread; "
        f"{describe(settings).split(': ', 1)[1]}."
    )


def read_options(words: list[str]) -> dict[str, Any] | str:
    """`wait 45m`, `limit 10`, `emoji :no_entry:` → turn_on's keywords, or what is wrong."""
    chosen: dict[str, Any] = {}
    pairs = list(zip(words[::2], words[1::2], strict=False))
    if len(words) % 2:
        return f"{code(shorten(words[-1], 40))} needs a value after it, e.g. {code('wait 30m')}."
    for name, value in pairs:
        key = name.lower()
        if key == "wait":
            minutes = MINUTES.match(value.lower())
            hours = HOURS.match(value.lower())
            number = int(minutes[1]) if minutes else int(hours[1]) * 60 if hours else None
            if number is None or number not in listening.FOLLOW_UP_MINUTES:
                return "The wait is minutes (or hours) up to a day, e.g. `wait 30m` or `wait 2h`."
            chosen["follow_up_minutes"] = number
        elif key == "limit":
            if not value.isdigit() or int(value) not in listening.HOURLY_LIMITS:
                return "The limit is answers an hour, from 1 to 200, e.g. `limit 20`."
            chosen["hourly_limit"] = int(value)
        elif key == "emoji":
            emoji = EMOJI.match(value.lower())
            if emoji is None:
                return "The emoji is one emoji name, e.g. `emoji :x:`."
            chosen["dismiss_emoji"] = emoji[1]
        else:
            return f"I don't know {code(shorten(typed(name), 40))} for {code('/ask listen')}."
    return chosen


def channel_of(client: WebClient, word: str) -> str | None:
    """The channel ID a word names: a link Slack made, an ID, or `#name` looked up."""
    linked = CHANNEL_LINK.match(word)
    if linked:
        return linked[1]
    if CHANNEL_ID.match(word):
        return word
    named = CHANNEL_NAME.match(typed(word).lower())
    if named is None:
        return None
    cursor = None
    try:
        while True:
            page = client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for found in page.get("channels") or []:
                if found.get("name") == named[1]:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
    except SlackApiError as error:
        log.warning("Could not list channels: %s", error.response.get("error"))
        return None


# --- messages in a listening channel ------------------------------------------------------


def only_listened_channels(
    body: dict[str, Any], context: BoltContext, next: Callable[[], None]
) -> None:
    """Let through what listening handles: a person's top-level message, or an edit or a
    deletion, in a channel where Eddy listens. A reply in a thread is noted (a colleague is
    on it) and left for the next listener, as is everything else."""
    event = body.get("event") or {}
    channel = event.get("channel") or ""
    if event.get("channel_type") not in ("channel", "group") or not channel:
        return
    runtime: Runtime = context["runtime"]
    subtype = event.get("subtype")
    if subtype in ("message_changed", "message_deleted"):
        if listening.channel(runtime, channel) is not None:
            next()
        return
    if subtype not in (None, "file_share", "thread_broadcast") or event.get("bot_id"):
        return
    user, ts, thread = event.get("user"), event.get("ts"), event.get("thread_ts")
    if not user or not ts:
        return
    if listening.channel(runtime, channel) is None:
        return
    if thread and thread != ts:
        listening.someone_replied(runtime, channel_id=channel, thread_ts=thread, user_id=user)
        return
    next()


def on_channel_message(
    body: dict[str, Any],
    event: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
) -> None:
    subtype = event.get("subtype")
    channel = event["channel"]
    if subtype == "message_deleted":
        taken = listening.withdrawn(
            runtime, channel_id=channel, message_ts=str(event.get("deleted_ts") or "")
        )
        take_away(client, taken)
        return
    if subtype == "message_changed":
        changed = event.get("message") or {}
        if changed.get("subtype") == "tombstone":
            taken = listening.withdrawn(
                runtime, channel_id=channel, message_ts=str(changed.get("ts") or "")
            )
        else:
            taken = listening.edited(
                runtime,
                channel_id=channel,
                message_ts=str(changed.get("ts") or ""),
                user_id=str(changed.get("user") or ""),
                text=typed(changed.get("text") or "").strip(),
            )
        take_away(client, taken)
        return
    text = event.get("text") or ""
    if ADDRESSED.search(text) or not typed(text).strip():
        return  # for someone else (or Eddy: the mention is answered), or only a file

    def consider() -> None:
        picked = listening.consider(
            runtime,
            channel_id=channel,
            message_ts=event["ts"],
            user_id=event["user"],
            text=typed(text).strip(),
            query=searchable(text),
        )
        if picked is not None and picked.post:
            post_answer(runtime, client, channel, event["ts"], picked)

    # In the lane for work after an ack (Bolt acked the event), so that a busy help channel
    # never keeps the listeners of the next requests waiting; while Eddy starts up, the
    # question waits for the index, without a word in the channel.
    work = afterwards(consider, body=body, context=context, respond=respond, client=client)
    if runtime.catalogue.when_loaded(runtime, work):
        runtime.work.after_ack(work)


def channel_answer(runtime: Runtime, client: WebClient, picked: Picked) -> dict[str, Any]:
    """The entry, who keeps it, and the buttons; no other candidates (a thread in a busy
    channel is no place for a list) and a line that says how to take it away."""
    answer = dataclasses.replace(picked.answer, others=())
    message = answer_message(runtime, answer, client, ephemeral=False, feedback=False)
    value = str(answer.question_id)
    message["blocks"] += as_dicts(
        [
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Helpful", action_id=CHANNEL_HELPFUL, value=value, style="primary"
                    ),
                    ButtonElement(text="Not helpful", action_id=CHANNEL_NOT_HELPFUL, value=value),
                    ButtonElement(text="Ask the experts", action_id=ASK_EXPERTS, value=value),
                ]
            ),
            context(
                "I answer questions in this channel when I'm sure. Not what you needed? "
                "Press Not helpful and I'll take this away."
            ),
        ]
    )
    return message


def post_answer(
    runtime: Runtime, client: WebClient, channel: str, message_ts: str, picked: Picked
) -> None:
    try:
        sent = client.chat_postMessage(
            channel=channel, thread_ts=message_ts, **channel_answer(runtime, client, picked)
        )
    except SlackApiError as error:
        log.warning("Could not answer in %s: %s", channel, error.response.get("error"))
        listening.not_posted(runtime, row_id=picked.row_id)
        return
    listening.replied(runtime, row_id=picked.row_id, reply_ts=str(sent["ts"]))


def take_away(client: WebClient, taken: Taken | None) -> None:
    """Delete Eddy's reply, saying nothing more."""
    if taken is None:
        return
    try:
        client.chat_delete(channel=taken.channel_id, ts=taken.reply_ts)
    except SlackApiError as error:
        if error.response.get("error") != "message_not_found":
            log.warning("Could not take back a reply: %s", error.response.get("error"))


def on_channel_rate(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Helpful / Not helpful under an answer in a channel's thread."""
    ack()
    user, question_id = pressed_id(body)
    helpful = body["actions"][0].get("action_id") == CHANNEL_HELPFUL
    rated = listening.rate_in_channel(
        runtime, question_id=question_id or 0, user_id=user, helpful=helpful
    )
    if rated.taken is not None:
        take_away(client, rated.taken)
    elif rated.rating in CHANNEL_REPLY:
        answer_presser(runtime, body, respond, CHANNEL_REPLY[rated.rating])
    runtime.catalogue.settle()


# --- the dismiss emoji --------------------------------------------------------------------


def only_dismissals(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:
    """Take the asker's dismiss emoji on Eddy's answer (or their question); any other
    reaction is for the badges."""
    event = body.get("event") or {}
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user"):
        return
    taken = listening.dismissed(
        context["runtime"],
        channel_id=str(item.get("channel") or ""),
        item_ts=str(item.get("ts") or ""),
        user_id=str(event["user"]),
        emoji=str(event.get("reaction") or ""),
    )
    if taken is not None:
        context["taken"] = taken
        next()


def on_dismissed(context: BoltContext, client: WebClient) -> None:
    take_away(client, context["taken"])


# --- invited to a channel -----------------------------------------------------------------


def eddy_joined(event: dict[str, Any], context: BoltContext) -> bool:
    """Eddy itself joined the channel (Bolt gives others' joins to the next listener:
    assignments)."""
    return bool(event.get("user")) and event.get("user") == context.bot_user_id


def on_member_joined(event: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    """Eddy was invited: offer its inviter, if they may, to turn listening on there."""
    inviter, channel = str(event.get("inviter") or ""), str(event.get("channel") or "")
    if event.get("user") != context.bot_user_id or not inviter or not channel:
        return
    if listening.channel(runtime, channel) is not None:
        return
    if not listening.may_manage(runtime, inviter, channel):
        return
    offer = (
        f"Thanks for inviting me to <#{channel}>. Is it a help channel? I can answer the "
        "questions people post there without being mentioned: only when I'm sure, in the "
        "question's thread, and at most 20 an hour."
    )
    client: WebClient = context.client
    dm(
        client,
        inviter,
        {
            "text": offer,
            "blocks": as_dicts(
                [
                    section(offer),
                    ActionsBlock(
                        elements=[
                            ButtonElement(
                                text="Answer questions there",
                                action_id=TURN_ON,
                                value=channel,
                                style="primary",
                            )
                        ]
                    ),
                    context_line(),
                ]
            ),
        },
    )


def context_line() -> Block:
    return context(
        f"You can change it later: {code('/ask listen #channel wait 30m limit 20')}, "
        f"or stop with {code('/ask listen off #channel')}."
    )


def on_turn_on(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user = presser(body)
    channel = str((body.get("actions") or [{}])[0].get("value") or "")
    if not CHANNEL_ID.match(channel):
        answer_presser(runtime, body, respond, "That channel is not one I know.")
        return
    if not listening.allowed(runtime, user, channel, "the offer to listen"):
        answer_presser(runtime, body, respond, NOT_A_MANAGER)
        return
    problem = channel_problem(client, channel, then=LISTEN_AGAIN, not_a_dm=ONLY_CHANNELS)
    if problem:
        answer_presser(runtime, body, respond, problem)
        return
    listening.turn_on(runtime, user_id=user, channel_id=channel)
    done = f"I'm listening in <#{channel}> now."
    if can_respond(respond):
        respond(
            replace_original=True,
            text=done,
            blocks=as_dicts([section(done), context_line()]),
        )


# --- nobody left waiting ------------------------------------------------------------------


def send_follow_up(runtime: Runtime, client: WebClient, offer: FollowUp) -> None:
    """DM the asker once: nobody answered; send it to the experts?"""
    if not topics(runtime):
        return
    experts = f"the {escape(offer.topic.name)} experts" if offer.topic else "the experts"
    asked = escape(shorten(offer.question, 300))
    text = f"Nobody has answered yet — send it to {experts}?"
    blocks: list[Block] = [
        section(f"{text}\nYou asked in <#{offer.channel_id}>: “{asked}”"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=shorten(f"Ask {experts}", 75),
                    action_id=ASK_EXPERTS,
                    value=str(offer.question_id),
                    style="primary",
                )
            ]
        ),
        context("Their answer comes to you here, and in your question's thread for others."),
    ]
    dm(client, offer.asker, {"text": text, "blocks": as_dicts(blocks)})


def show_experts_answer(
    runtime: Runtime, client: WebClient, routed: Routed, expert: str, text: str
) -> Post | None:
    """The experts' answer to a question from a help channel, in its thread there too."""
    where = listening.thread_of(runtime, routed.question_id)
    if where is None:
        return None
    channel, message_ts = where
    said = f"*{mention(expert)} answered this for the {escape(routed.topic.name)} experts:*"
    return post_in_thread(
        client,
        Post(channel, message_ts, None),
        f"{said}\n{escape(shorten(text, 2800))}",
    )


# --- help channels in the managers' console (App Home) ------------------------------------

CHANNEL_ADD, CHANNEL_CHANGE, CHANNEL_STOP, CHANNEL_MODAL = (
    "listen_channel_add",
    "listen_channel_change",
    "listen_channel_stop",
    "listen_channel_modal",
)
CHANNEL_BLOCK, WAIT_BLOCK, LIMIT_BLOCK, EMOJI_BLOCK = (
    "listen_channel",
    "listen_wait",
    "listen_limit",
    "listen_emoji",
)


def register_console(app: App) -> None:
    app.action(CHANNEL_ADD)(on_channel_button)
    app.action(CHANNEL_CHANGE)(on_channel_button)
    app.action(CHANNEL_STOP)(on_stop_button)
    app.view(CHANNEL_MODAL)(on_channel_submitted)


def channel_item(settings: Listening) -> list[Block]:
    """A help channel in the console, with Change and Stop."""
    stop = ButtonElement(
        text="Stop",
        action_id=CHANNEL_STOP,
        value=settings.channel_id,
        confirm=ConfirmObject(
            title="Stop listening?",
            text=f"I'll answer in <#{settings.channel_id}> only when mentioned.",
            confirm="Stop",
            deny="Cancel",
        ),
    )
    return [
        section(f"• {describe(settings)}"),
        ActionsBlock(elements=[button("Change", CHANNEL_CHANGE, settings.channel_id), stop]),
    ]


def channel_modal(settings: Listening | None) -> View:
    blocks: list[Block] = []
    if settings is None:
        blocks.append(
            channel_select(
                CHANNEL_BLOCK, hint="A channel people ask for help in. Invite me there first."
            )
        )
    else:
        blocks.append(section(f"How I listen in <#{settings.channel_id}>"))
    blocks += [
        whole_number(
            LIMIT_BLOCK,
            "Answers an hour, at most",
            listening.HOURLY_LIMITS,
            settings.hourly_limit if settings else listening.DEFAULT_HOURLY_LIMIT,
        ),
        whole_number(
            WAIT_BLOCK,
            "Minutes before I offer the experts",
            listening.FOLLOW_UP_MINUTES,
            settings.follow_up_minutes if settings else listening.DEFAULT_FOLLOW_UP_MINUTES,
            hint="When nobody has replied to a question I could not answer.",
        ),
        InputBlock(
            block_id=EMOJI_BLOCK,
            label="The asker's emoji that takes my answer away",
            element=PlainTextInputElement(
                action_id=EMOJI_BLOCK,
                max_length=92,
                initial_value=f":{settings.dismiss_emoji if settings else 'x'}:",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=CHANNEL_MODAL,
        title="Help channel",
        submit="Save",
        close="Cancel",
        private_metadata=settings.channel_id if settings else "",
        blocks=blocks,
    )


def on_channel_button(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = presser(body)
    settings = None
    if body["actions"][0].get("action_id") == CHANNEL_CHANGE:
        channel = action_value(body)
        settings = listening.channel(runtime, channel)
        if settings is None:
            runtime.notify(HomeNotice(user, "I'm no longer listening in that channel."))
            return
        if not listening.allowed(runtime, user, channel, "the help channel form"):
            runtime.notify(HomeNotice(user, NOT_A_MANAGER))
            return
    elif not listening.allowed(runtime, user, None, "the help channel form"):
        runtime.notify(HomeNotice(user, NOT_A_MANAGER))
        return
    client.views_open(trigger_id=body["trigger_id"], view=channel_modal(settings))


def on_stop_button(ack: Ack, body: dict[str, Any], runtime: Runtime) -> None:
    ack()
    user, channel = presser(body), action_value(body)
    change = listening.turn_off(runtime, user_id=user, channel_id=channel)
    text = {
        Change.OFF: f"I no longer answer questions in <#{channel}> unless mentioned.",
        Change.NOT_LISTENING: "I wasn't listening in that channel.",
    }.get(change, NOT_A_MANAGER)
    runtime.notify(HomeNotice(user, text))
    if change is Change.OFF:
        runtime.notify(HomeChanged(managers=True))


def on_channel_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    known = metadata_text(view)
    channel = known or str(entered(view, CHANNEL_BLOCK).get("selected_conversation") or "")
    first_block = LIMIT_BLOCK if known else CHANNEL_BLOCK
    if not channel:
        ack(response_action="errors", errors={CHANNEL_BLOCK: "Choose a channel."})
        return
    if not listening.allowed(runtime, user, channel, "a help channel's form"):
        ack(response_action="errors", errors={first_block: NOT_A_MANAGER})
        return
    if known and listening.channel(runtime, channel) is None:
        ack(response_action="errors", errors={LIMIT_BLOCK: "I'm no longer listening there."})
        return
    errors: dict[str, str] = {}
    limit = small_number(entered(view, LIMIT_BLOCK).get("value"), listening.HOURLY_LIMITS[-1])
    if limit is None or limit not in listening.HOURLY_LIMITS:
        errors[LIMIT_BLOCK] = "A whole number from 1 to 200."
    wait = small_number(entered(view, WAIT_BLOCK).get("value"), listening.FOLLOW_UP_MINUTES[-1])
    if wait is None or wait not in listening.FOLLOW_UP_MINUTES:
        errors[WAIT_BLOCK] = "A whole number of minutes, from 1 to 1440 (a day)."
    emoji = EMOJI.match(typed_input(entered(view, EMOJI_BLOCK).get("value")).strip().lower())
    if emoji is None:
        errors[EMOJI_BLOCK] = "One emoji name, like :x: or :no_entry:."
    if not known:
        problem = channel_problem(
            client, channel, then="save again", plain=True, not_a_dm=ONLY_CHANNELS
        )
        if problem:
            errors[CHANNEL_BLOCK] = problem
    if errors:
        ack(response_action="errors", errors=errors)
        return
    assert emoji is not None
    ack()
    change = listening.turn_on(
        runtime,
        user_id=user,
        channel_id=channel,
        follow_up_minutes=wait,
        hourly_limit=limit,
        dismiss_emoji=emoji[1],
    )
    done = "Now listening in" if change is Change.ON else "Updated how I listen in"
    runtime.notify(HomeNotice(user, f"{done} <#{channel}>."))
    runtime.notify(HomeChanged(managers=True))
