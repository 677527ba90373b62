"""Ask: `/ask`, @Eddy in a channel, a DM to Eddy, and the Ask modal (opened from App Home);
help, over-long text and small talk ("hi", "thanks!") get a reply about where they were
written rather than a search; the answer's buttons: Helpful, Not helpful, Share in channel,
and Show for the other candidates. (Ask the experts, also on the answer, belongs to
`handlers.networks`.)"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    SectionBlock,
)

from bot.ask import Answer, Rating, Shared, ask, choose, rate, recall, share
from bot.content.entries import KnowledgeEntry
from bot.content.small_talk import small_talk
from bot.runtime import Runtime
from handlers import people
from handlers.blocks import (
    HomeNotice,
    as_dicts,
    context,
    escape,
    markdown_to_slack,
    searchable,
    section,
    sections,
    shorten,
    typed,
    typed_input,
)
from handlers.errors import afterwards
from handlers.slash import HELP_WORDS, MAX_TEXT, SlashCommand
from handlers.values import action_value, answer_presser, can_respond, presser, row_id

ASK = SlashCommand(
    "/ask",
    "Ask Eddy a question in your own words; Eddy answers from your company's knowledge index.",
    ("/ask <question>", "/ask listening", "/ask help"),
    needs_text=True,
)
#: `/ask` commands that other capabilities add, by their first word (help channels' `listen`
#: and `listening`): each gets the command and the words after its own, and returns its
#: reply, or None when the text is a question after all ("listen to music at work?").
Subcommand = Callable[[Runtime, WebClient, dict[str, Any], list[str]], dict[str, Any] | None]
SUBCOMMANDS: dict[str, Subcommand] = {}
log = logging.getLogger(__name__)
SEARCH = "home_search_input"
HELPFUL = "ask_helpful"
NOT_HELPFUL = "ask_not_helpful"
SHARE = "ask_share"
ASK_EXPERTS = "ask_experts"
SHOW = "ask_show"
MENTION_HELP = "Ask me a question after the mention, e.g. `@Eddy how do I reset my VPN password?`"
HOME_HELP = "Type a question in your own words, e.g. `how do I reset my VPN password?`"
DM_HELP = (
    "Send me a question in your own words, e.g. `how do I reset my VPN password?`, and I'll "
    "answer from the knowledge index; when I don't know, I'll offer to ask the experts. In a "
    "channel, mention me (`@Eddy …`) or use `/ask`."
)
LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>[\s:,]*")
RATED_REPLY = {
    Rating.LEARNED: (
        "Thanks! I'll remember how you asked this: you'll get this answer next time, and once "
        "someone else finds it helpful too, so will others."
    ),
    Rating.THANKED: "Thanks for letting me know this helped.",
    Rating.FLAGGED: "Thanks for telling me. I've flagged this answer so its owner can improve it.",
}
OTHER_REPLY = {
    Rating.NOT_YOURS: "Only the person who asked can rate this answer.",
    Rating.ALREADY: "This answer has already been rated. Thanks!",
    Rating.GONE: "That answer is no longer in the knowledge index.",
}
CANNOT_POST = "I can't post in this conversation. Invite @Eddy to the channel first."
NOT_YOUR_ANSWER = "Sorry, only the person who asked can share this answer or pick another one."
STARTING_UP = (
    "I'm just starting up, and my knowledge index is still loading: I'll answer here in a "
    "moment, as soon as it's ready."
)


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Ask's listeners (it needs no notices)."""
    app.command(ASK.name)(on_ask_command)
    app.event("app_mention")(on_mention)
    app.event("message")(on_direct_message)
    app.action(SEARCH)(on_home_search)
    app.action(HELPFUL)(on_rate)
    app.action(NOT_HELPFUL)(on_rate)
    app.action(SHARE)(on_share)
    app.action(SHOW)(on_show)


# --- the answer, as Block Kit ------------------------------------------------------------


def answer_message(
    runtime: Runtime,
    answer: Answer,
    client: WebClient,
    *,
    ephemeral: bool,
    rated: Rating | None = None,
    shared_by: str | None = None,
    feedback: bool = True,
) -> dict[str, Any]:
    """The reply to a question (text and blocks), wherever it was asked. `feedback` False (a
    copy for someone other than the asker) and shared answers carry no rating buttons."""
    blocks: list[Block] = []
    question = escape(shorten(answer.question, 300))
    if shared_by is not None:
        blocks.append(context(f"<@{shared_by}> asked: “{question}”"))
    if answer.entry is not None:
        blocks += entry_blocks(answer.entry, people.name_of(runtime, client, answer.entry.owner))
        if answer.others and shared_by is None:
            blocks.append(context("*Other answers that might help:*"))
            blocks += [candidate(answer, entry) for entry in answer.others]
        gist = shorten(markdown_to_slack(answer.entry.body), 200)
        text = f"“{escape(answer.entry.title)}”: {gist}"
    else:
        text = unsure_text(answer)
        blocks.append(section(text))
        blocks += [candidate(answer, entry) for entry in answer.others]
    if shared_by is None and feedback:
        blocks += feedback_blocks(answer, ephemeral=ephemeral, rated=rated)
    return {"text": text, "blocks": as_dicts(blocks)}


def unsure_text(answer: Answer) -> str:
    asked = f"“{escape(shorten(answer.question, 200))}”"
    if answer.others:
        return f"I'm not sure I know the answer to {asked}. Here is what came closest:"
    return f"I couldn't find anything about {asked} in the knowledge index."


def entry_blocks(entry: KnowledgeEntry, owner: str | None) -> list[Block]:
    facts = []
    if owner:
        facts.append(f"Kept by {escape(owner)}")
    if entry.reviewed:
        facts.append(f"Reviewed {entry.reviewed:%-d %b %Y}")
    blocks: list[Block] = [section(f"*{escape(entry.title)}*")]
    blocks += sections(markdown_to_slack(entry.body))
    if facts:
        blocks.append(context(" · ".join(facts)))
    return blocks


def candidate(answer: Answer, entry: KnowledgeEntry) -> SectionBlock:
    return SectionBlock(
        text=f"• {escape(entry.title)}",
        accessory=ButtonElement(
            text="Show", action_id=SHOW, value=f"{answer.question_id}:{entry.slug}"
        ),
    )


def feedback_blocks(answer: Answer, *, ephemeral: bool, rated: Rating | None) -> list[Block]:
    value = str(answer.question_id)
    if rated is not None:
        return [context(RATED_REPLY.get(rated, ""))]
    buttons: list[ButtonElement] = []
    if answer.entry is not None:
        buttons += [
            ButtonElement(text="Helpful", action_id=HELPFUL, value=value, style="primary"),
            ButtonElement(text="Not helpful", action_id=NOT_HELPFUL, value=value),
        ]
        if ephemeral:
            buttons.append(ButtonElement(text="Share in channel", action_id=SHARE, value=value))
    buttons.append(ButtonElement(text="Ask the experts", action_id=ASK_EXPERTS, value=value))
    return [ActionsBlock(elements=buttons)]


# --- asking ------------------------------------------------------------------------------


def reply_to(
    runtime: Runtime,
    client: WebClient,
    *,
    user: str,
    channel: str | None,
    surface: str,
    question: str,
    query: str,
    ephemeral: bool,
) -> dict[str, Any]:
    """Search the catalogue and render the answer. `question` is typed text (logged as asked),
    `query` what to search for."""
    answer = ask(
        runtime,
        user_id=user,
        channel_id=channel,
        surface=surface,
        question=question,
        query=query,
    )
    return answer_message(runtime, answer, client, ephemeral=ephemeral)


def on_ask_command(
    ack: Ack,
    command: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
) -> None:
    """Answer `/ask <question>` ephemerally. Help and usage come in the ack; a question is
    acknowledged at once and answered through the command's response URL, so that no search,
    logging or rendering stands between Slack and its ack (due within 3 s)."""
    text = command.get("text", "").strip()
    reply = ASK.screen(text) or subcommand(runtime, client, command, text)
    if reply is not None:
        ack(**reply)
        return

    def answer() -> None:
        respond(
            **reply_to(
                runtime,
                client,
                user=command["user_id"],
                channel=command.get("channel_id"),
                surface="command",
                question=typed(text).strip(),
                query=searchable(text),
                ephemeral=True,
            )
        )

    once_loaded(
        runtime,
        afterwards(answer, body=command, context=context, respond=respond, client=client),
        tell=lambda starting: ack(text=starting),
        then=ack,
    )


def once_loaded(
    runtime: Runtime,
    work: Callable[[], None],
    *,
    tell: Callable[[str], Any],
    then: Callable[[], Any] | None = None,
) -> None:
    """Answer a question now (`then` first, if given: an empty ack), or, while Eddy is
    starting up and its knowledge index is not built yet, `tell` the person so and answer as
    soon as it is. Never "I don't know", which would not be true, and nothing is lost. The
    answer is worked out in the work pool's lane for work after an ack, so that the listeners
    acknowledging the next requests never wait for it."""
    catalogue = runtime.catalogue
    if catalogue.ready:
        if then is not None:
            then()
        runtime.work.after_ack(work)
        return
    tell(STARTING_UP)
    if catalogue.when_loaded(runtime, work):
        runtime.work.after_ack(work)  # it became ready meanwhile


def subcommand(
    runtime: Runtime, client: WebClient, command: dict[str, Any], text: str
) -> dict[str, Any] | None:
    """The reply of the `/ask` command the first word names, if it takes the rest."""
    first, *rest = text.split()
    handler = SUBCOMMANDS.get(first.lower())
    return handler(runtime, client, command, rest) if handler is not None else None


def conversational(
    runtime: Runtime, text: str, *, usage: dict[str, Any], what: str
) -> dict[str, Any] | None:
    """The reply to a DM or mention that is not a question to search for: help (or nothing
    at all), text past the length limit (in words about this surface, `what`), or small talk
    (`bot.content.small_talk`). None: search for it."""
    words = typed(text).strip()
    if not words or words.casefold() in HELP_WORDS:
        return usage
    if len(words) > MAX_TEXT:
        return {
            "text": f"That's {len(words):,} characters; {what} takes at most {MAX_TEXT:,}. "
            "Try a shorter version."
        }
    said = small_talk(runtime.settings.eddy_content_dir, words)
    return {"text": said} if said else None


def on_mention(
    body: dict[str, Any],
    event: dict[str, Any],
    context: BoltContext,
    say: Say,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
) -> None:
    """Answer `@Eddy <question>` in the thread of the mention."""
    question = LEADING_MENTION.sub("", event.get("text", "")).strip()
    thread = event.get("thread_ts") or event["ts"]
    user = event.get("user")
    if not user:
        return  # an integration's message that mentions Eddy: nobody to answer
    other = conversational(
        runtime, question, usage={"text": MENTION_HELP}, what="a question for @Eddy"
    )
    if other is not None:
        say(**other, thread_ts=thread)
        return

    answer_where_asked(
        runtime,
        client,
        Asked(body, context, say, respond),
        user=user,
        channel=event.get("channel"),
        question=question,
        surface="mention",
        thread=thread,
    )


def on_direct_message(
    body: dict[str, Any],
    event: dict[str, Any],
    context: BoltContext,
    say: Say,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
) -> None:
    """Answer a question sent to Eddy as a DM; other message events are not for Eddy."""
    user = event.get("user")
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not user:
        return
    question = LEADING_MENTION.sub("", event.get("text", "")).strip()
    other = conversational(
        runtime, question, usage=ASK.reply(DM_HELP), what="a question sent to me"
    )
    if other is not None:
        say(**other)
        return

    answer_where_asked(
        runtime,
        client,
        Asked(body, context, say, respond),
        user=user,
        channel=event.get("channel"),
        question=question,
        surface="dm",
    )


@dataclass(frozen=True)
class Asked:
    """Where a question written to Eddy came from, as Bolt gave it: what an answer (or an
    apology, should it fail) needs to reach the person."""

    body: dict[str, Any]
    context: BoltContext
    say: Say
    respond: Respond


def answer_where_asked(
    runtime: Runtime,
    client: WebClient,
    asked: Asked,
    *,
    user: str,
    channel: str | None,
    question: str,
    surface: str,
    thread: str | None = None,
) -> None:
    """Answer a question written to Eddy (a DM; a mention, in its `thread`) where it was
    written, after the ack (see `once_loaded`)."""

    def answer() -> None:
        reply = reply_to(
            runtime,
            client,
            user=user,
            channel=channel,
            surface=surface,
            question=typed(question).strip(),
            query=searchable(question),
            ephemeral=False,
        )
        asked.say(**reply, thread_ts=thread)

    once_loaded(
        runtime,
        afterwards(
            answer, body=asked.body, context=asked.context, respond=asked.respond, client=client
        ),
        tell=lambda starting: asked.say(text=starting, thread_ts=thread),
    )


def on_home_search(
    ack: Ack,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
) -> None:
    """The Home tab's search box: answered by DM, where the answer stays findable and its
    buttons work; the Home tab says where it went."""
    ack()
    user, question = presser(body), typed_input(action_value(body)).strip()
    if not question:
        runtime.notify(HomeNotice(user, "Type a question first, then press Enter."))
        return
    problem = conversational(
        runtime, escape(question), usage={"text": HOME_HELP}, what="the search box"
    )
    if problem is not None:
        runtime.notify(HomeNotice(user, problem["text"]))
        return

    def answer() -> None:
        reply = reply_to(
            runtime,
            client,
            user=user,
            channel=None,
            surface="home",
            question=question,
            query=question,
            ephemeral=False,
        )
        client.chat_postMessage(channel=user, **reply)
        asked = escape(shorten(question, 100))
        runtime.notify(HomeNotice(user, f"I've answered “{asked}” in our DM (Messages tab)."))

    once_loaded(
        runtime,
        afterwards(answer, body=body, context=context, respond=respond, client=client),
        tell=lambda starting: runtime.notify(
            HomeNotice(user, "I'm just starting up: I'll answer in our DM in a moment.")
        ),
    )


# --- the answer's buttons ----------------------------------------------------------------


def _pressed(body: dict[str, Any]) -> tuple[str, str, bool]:
    """(who pressed, the button's value, whether the message was ephemeral)."""
    ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
    return presser(body), action_value(body), ephemeral


def on_rate(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, value, ephemeral = _pressed(body)
    helpful = body["actions"][0].get("action_id") == HELPFUL
    question_id = row_id(value) or 0
    outcome = rate(runtime, question_id=question_id, user_id=user, helpful=helpful)
    answer = recall(runtime, question_id=question_id)
    if outcome in RATED_REPLY and answer is not None and can_respond(respond):
        respond(
            replace_original=True,
            **answer_message(runtime, answer, client, ephemeral=ephemeral, rated=outcome),
        )
    else:
        answer_presser(runtime, body, respond, {**RATED_REPLY, **OTHER_REPLY}.get(outcome, ""))
    runtime.catalogue.settle()


def on_share(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Post the asker's ephemeral answer for everyone in the channel they asked in, and take
    the private copy away. Only the asker may; the channel is the one their question was
    asked in, whatever the request says."""
    ack()
    user, value, _ = _pressed(body)
    shared = share(runtime, question_id=row_id(value) or 0, user_id=user)
    if not isinstance(shared, Shared):
        refusal = NOT_YOUR_ANSWER if shared is Rating.NOT_YOURS else OTHER_REPLY[Rating.GONE]
        answer_presser(runtime, body, respond, refusal)
        return
    try:
        client.chat_postMessage(
            channel=shared.channel,
            **answer_message(runtime, shared.answer, client, ephemeral=False, shared_by=user),
        )
    except SlackApiError as error:
        if error.response.get("error") not in ("not_in_channel", "channel_not_found"):
            raise
        answer_presser(runtime, body, respond, CANNOT_POST)
        return
    if can_respond(respond):
        respond(delete_original=True)


def on_show(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Show another candidate: in place for the asker, privately for anyone else who saw the
    answer (one given in a channel's thread)."""
    ack()
    user, value, ephemeral = _pressed(body)
    question_id, _, slug = value.partition(":")
    answer = choose(runtime, question_id=row_id(question_id) or 0, user_id=user, slug=slug)
    if not isinstance(answer, Answer):
        refusal = NOT_YOUR_ANSWER if answer is Rating.NOT_YOURS else OTHER_REPLY[Rating.GONE]
        answer_presser(runtime, body, respond, refusal)
        return
    if not can_respond(respond):  # not pressed on a message: there is nothing to show it in
        answer_presser(runtime, body, respond, "Press Show on the answer's message to see it.")
        return
    if answer.asked_by == user:
        respond(
            replace_original=True, **answer_message(runtime, answer, client, ephemeral=ephemeral)
        )
    else:
        respond(
            response_type="ephemeral",
            replace_original=False,
            **answer_message(runtime, answer, client, ephemeral=True, feedback=False),
        )
