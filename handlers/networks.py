"""Subject-matter networks in Slack: `/experts`, "Ask the experts", the routed question's
posts with Claim and Answer, answers in its thread, Resolved, the "Save to knowledge index"
button (which hands over to the review queue's form: drafts, their cards and the reviewers'
Approve / Edit / Reject are handlers/review.py's), the scheduled escalations' messages, and
the networks in the managers' console.

Where things go: a routed question is posted in its topic's channel or DMed to a few experts;
the asker hears everything in their DM with Eddy. This module imports the review handlers,
never the other way round: they ask for a question's posts to be redrawn with a notice
(`bot.review.AnswerDraftChanged`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    SectionBlock,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot import networks, review
from bot.content.limits import FORM_TEXT_LIMIT
from bot.content.networks import NOTIFY_MANAGERS, Topic
from bot.networks import Escalation, Outcome, Post, Routed, Sent
from bot.people import is_former_member
from bot.review import AnswerDraftChanged
from bot.runtime import HomeChanged, Runtime
from bot.text import plural
from handlers import listening
from handlers.ask import ASK_EXPERTS
from handlers.blocks import (
    HomeNotice,
    as_dicts,
    button,
    code,
    context,
    duration,
    escape,
    link,
    mention,
    searchable,
    section,
    sections,
    shorten,
    typed,
    when,
)
from handlers.forms import TOPIC_BLOCK, modal_value, text_input, too_long, topic_select
from handlers.people import LookUpError
from handlers.people import person as slack_person
from handlers.review import NOT_A_SAVER, save_answer
from handlers.slack import dm, post_in_thread, reply
from handlers.slash import MAX_TEXT, SlashCommand
from handlers.values import (
    action_value,
    answer_presser,
    can_respond,
    entered,
    metadata_text,
    pressed_id,
    row_id,
)

log = logging.getLogger(__name__)

EXPERTS = SlashCommand(
    "/experts",
    "The colleagues who answer what the knowledge index can't.",
    (
        "/experts list [topic]",
        "/experts join <topic>",
        "/experts leave <topic>",
        "/experts me",
        "/experts away",
        "/experts back",
        "/experts add @person <topic>",
        "/experts remove @person <topic>",
    ),
    needs_text=True,
)
NO_NETWORK = (
    "No subject-matter network is set up in this Eddy yet, so I can't route your question to "
    "the people who know. Try asking in a channel where they might see it."
)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
QUESTION_MODAL, ANSWER_MODAL = "experts_question_modal", "experts_answer_modal"
CLAIM, ANSWER, RESOLVED, NOT_YET, SAVE = (
    "experts_claim",
    "experts_answer",
    "experts_resolved",
    "experts_not_yet",
    "experts_save",
)
QUESTION_BLOCK, ANSWER_BLOCK = "experts_question", "experts_answer"
GONE = "That question is no longer open (it was removed, or its topic is gone)."
NOT_SENT_TO_YOU = (
    "Sorry, this question was sent to a few chosen experts: only they and the topic's managers "
    "can claim or answer it."
)
HOURS_LIMIT = 48
#: The longest answer the Answer form takes (Slack's limit for a text input).
ANSWER_LIMIT = FORM_TEXT_LIMIT


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Networks' listeners; what the scheduled escalation decides is delivered through Slack,
    and a question's posts are redrawn when review says the draft of its answer changed."""
    app.command(EXPERTS.name)(on_experts_command)
    app.action(ASK_EXPERTS)(on_ask_experts)
    app.view(QUESTION_MODAL)(on_question_submitted)
    app.action(CLAIM)(on_claim)
    app.action(ANSWER)(on_answer_button)
    app.view(ANSWER_MODAL)(on_answer_submitted)
    app.action(RESOLVED)(on_resolved)
    app.action(NOT_YET)(on_not_yet)
    app.action(SAVE)(on_save_button)
    # Only replies in the thread of a routed post reach this listener; every other message
    # falls through to the next `message` listener (Ask's), because the middleware skips it.
    app.event("message", middleware=[only_routed_threads])(on_thread_reply)
    register_console(app)
    runtime.listen(Escalation, lambda notice: send_escalation(runtime, client, notice))
    runtime.listen(
        AnswerDraftChanged, lambda changed: refresh_question(runtime, client, changed.routed_id)
    )


# --- what people see ----------------------------------------------------------------------


def quoted(text: str, limit: int = 2000) -> str:
    """Typed text from a person, escaped and shown as a quote."""
    safe = escape(shorten(text, limit))
    return "\n".join(f">{line}" for line in safe.splitlines() or [""])


def topic_name(topic: Topic) -> str:
    return f"*{escape(topic.name)}*"


#: What a resolved answer's messages say instead of "Save to knowledge index" once someone
#: has sent it for review.
SENT_FOR_REVIEW = "Sent for review to the knowledge index."
SAVED = "Saved to the knowledge index."


def question_post(
    routed: Routed, recipient: str | None, headline: str | None = None, *, proposed: bool = False
) -> dict[str, Any]:
    """The routed question as the network (or one expert) sees it, for its current state
    (`proposed`: its answer waits for review, so it can no longer be saved)."""
    head = (
        headline
        or f"A question for the {topic_name(routed.topic)} network from {mention(routed.asker)}"
    )
    blocks: list[Block] = [section(head), section(quoted(routed.question))]
    facts = f"Asked {when(routed.routed_at)}"
    actions: list[ButtonElement] = []
    if routed.status == networks.OPEN:
        blocks.append(
            context(
                facts,
                "Claim it so the others know you're on it, then answer in this thread or with "
                "Answer.",
            )
        )
        actions = [
            button("Claim", CLAIM, routed.id, "primary"),
            button("Answer", ANSWER, routed.id),
        ]
    elif routed.status == networks.CLAIMED:
        if recipient is not None and recipient != routed.claimed_by:
            blocks.append(
                context(f"{mention(routed.claimed_by)} is on it: no need to answer. Thanks!")
            )
        else:
            blocks.append(context(facts, f"Claimed by {mention(routed.claimed_by)}"))
            actions = [button("Answer", ANSWER, routed.id, "primary")]
    elif routed.status == networks.ANSWERED:
        blocks.append(
            context(
                f"Answered by {mention(routed.answered_by)}; waiting for {mention(routed.asker)} "
                "to confirm."
            )
        )
    elif routed.status == networks.WITHDRAWN:
        blocks.append(context("Withdrawn: the person who asked is no longer a member."))
    else:
        blocks.append(context(f"Resolved: answered by {mention(routed.answered_by)}."))
        if routed.saved_slug is not None:
            blocks.append(context(SAVED))
        elif proposed:
            blocks.append(context(SENT_FOR_REVIEW))
        else:
            actions = [button("Save to knowledge index", SAVE, routed.id)]
    if actions:
        blocks.append(ActionsBlock(elements=actions))
    text = (
        f"A question for the {escape(routed.topic.name)} network: "
        f"{escape(shorten(routed.question, 150))}"
    )
    return {"text": text, "blocks": as_dicts(blocks)}


def answer_for_asker(
    routed: Routed, conversation: str | None, *, proposed: bool = False, told: str | None = None
) -> dict[str, Any]:
    """The answer, in the asker's DM, with Resolved / Not yet (or Save once resolved, until
    someone has `proposed` it for the knowledge index)."""
    blocks: list[Block] = [
        section(
            f"{mention(routed.answered_by)} answered your question "
            f"“{escape(shorten(routed.question, 200))}”:"
        ),
        *sections(escape(routed.answer or "")),
    ]
    if conversation:
        blocks.append(context(link(conversation, "See the conversation")))
    if routed.status == networks.RESOLVED:
        blocks.append(context("You marked this resolved. Thanks!"))
        if routed.saved_slug is not None:
            blocks.append(context(SAVED))
        elif proposed:
            blocks.append(context(SENT_FOR_REVIEW))
        else:
            blocks.append(
                ActionsBlock(elements=[button("Save to knowledge index", SAVE, routed.id)])
            )
    elif told is not None:
        # "Not yet" was pressed: the expert knows; what they add arrives with both buttons.
        blocks.append(context(told))
        blocks.append(ActionsBlock(elements=[button("Resolved", RESOLVED, routed.id, "primary")]))
    else:
        blocks.append(resolved_or_not(routed))
    text = f"{mention(routed.answered_by)} answered your question."
    return {"text": text, "blocks": as_dicts(blocks)}


def resolved_or_not(routed: Routed) -> ActionsBlock:
    """What the asker answers an expert's answer with."""
    return ActionsBlock(
        elements=[
            button("Resolved", RESOLVED, routed.id, "primary"),
            button("Not yet", NOT_YET, routed.id),
        ]
    )


def refresh_posts(
    runtime: Runtime, client: WebClient, routed: Routed, *, skip: str | None = None
) -> None:
    """Redraw every post of a routed question for its current state: the network's and each
    expert's copy, the managers' alerts, and (once its answer is sent for review) every
    message that offered to save it, so that no button is left that can only answer
    "already done"."""
    proposed = routed.saved_slug is None and review.pending_draft(runtime, routed.id) is not None
    redraws: list[tuple[Post, dict[str, Any]]] = [
        (post, question_post(routed, post.recipient, proposed=proposed))
        for post in networks.posts(runtime, routed.id)
        # A notice (a manager's alert, a note) is the message it was: alerts are redrawn
        # below, as what they are.
        if not post.notice and (skip is None or post.recipient != skip)
    ]
    # A manager's alert is redrawn as any copy for someone who has not claimed it.
    redraws += [
        (post, question_post(routed, "", proposed=proposed))
        for post in networks.action_posts(runtime, networks.MANAGER_ALERT, routed.id)
    ]
    if routed.status == networks.RESOLVED:
        # Sent for review, then saved (their last redraw: forgotten) or rejected (Save again).
        saved = routed.saved_slug is not None
        conversation = link_to(client, post_of(runtime, routed, routed.answered_by))
        for post in networks.action_posts(runtime, networks.ASKER_ANSWER, routed.id, forget=saved):
            redraws.append((post, answer_for_asker(routed, conversation, proposed=proposed)))
        prompt = save_prompt(routed, done=SAVED if saved else SENT_FOR_REVIEW if proposed else None)
        for post in networks.action_posts(runtime, networks.SAVE_PROMPT, routed.id, forget=saved):
            redraws.append((post, prompt))
    for post, message in redraws:
        try:
            client.chat_update(channel=post.channel, ts=post.ts, **message)
        except SlackApiError as error:
            log.warning(
                "Could not update a post of question %s: %s", routed.id, error.response.get("error")
            )


def refresh_question(runtime: Runtime, client: WebClient, routed_id: int) -> None:
    """`refresh_posts` for the routed question `routed_id`, if it is still there."""
    routed = networks.routed_question(runtime, routed_id)
    if routed is not None:
        refresh_posts(runtime, client, routed)


def link_to(client: WebClient, post: Post | None) -> str | None:
    """A permalink to a channel post's thread (a DM thread is private to its expert)."""
    if post is None or post.recipient is not None:
        return None
    try:
        return str(client.chat_getPermalink(channel=post.channel, message_ts=post.ts)["permalink"])
    except SlackApiError:
        return None


def post_of(runtime: Runtime, routed: Routed, user: str | None) -> Post | None:
    """Where `user` works on the question: the channel post, or their own DM of it."""
    found = networks.posts(runtime, routed.id)
    for post in found:
        if post.recipient is None or post.recipient == user:
            return post
    return None


def pressed(body: dict[str, Any]) -> tuple[str, int | None]:
    """(who pressed, the row ID in the button's value, or None)."""
    return pressed_id(body)


def metadata_id(view: dict[str, Any]) -> int | None:
    """The row ID a modal is about (from its private_metadata: to look up, never to trust)."""
    return row_id(metadata_text(view))


# --- /experts -----------------------------------------------------------------------------


def on_experts_command(
    ack: Ack, command: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    text = command.get("text", "").strip()
    user = command["user_id"]
    screened = EXPERTS.screen(text)
    if screened is not None:
        ack(**screened)
        return
    verb, _, rest = text.partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if not networks.topics(runtime):
        ack(
            **EXPERTS.reply(
                "No subject-matter networks are set up yet: a community manager adds topics to "
                "`networks.yml`."
            )
        )
        return
    handler = SUBCOMMANDS.get(verb)
    if handler is None:
        ack(**EXPERTS.unknown(text))
        return
    handler(ack, runtime, client, user, rest)


def resolve_topic(ack: Ack, runtime: Runtime, words: str, verb: str) -> tuple[Topic, str] | None:
    """The topic `words` name, with a note when it was a fuzzy match; acks and returns None
    (after explaining) when there is none."""
    if not words:
        ack(
            **EXPERTS.reply(
                f"Which topic? Try {code(f'/experts {verb} <topic>')}; `/experts list` shows "
                "them all."
            )
        )
        return None
    match = networks.find_topic(runtime, searchable(words))
    if match is None:
        known = ", ".join(f"`{t.key}`" for t in networks.topics(runtime))
        ack(
            **EXPERTS.reply(
                f"I don't know a topic called “{escape(shorten(typed(words), 60))}”. "
                f"Topics: {known}."
            )
        )
        return None
    note = (
        f"(I took “{escape(shorten(typed(words), 60))}” to mean {topic_name(match.topic)}.) "
        if match.fuzzy
        else ""
    )
    return match.topic, note


def on_join(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
    found = resolve_topic(ack, runtime, words, "join")
    if found is None:
        return
    topic, note = found
    joined = networks.join(runtime, topic_key=topic.key, user_id=user, added_by=user)
    if joined is not Outcome.DONE:
        reply(ack, f"{note}You're already in the {topic_name(topic)} network.")
        return
    reply(
        ack,
        f"{note}You've joined the {topic_name(topic)} network. When someone asks something the "
        "knowledge index can't answer, I may send it to you. `/experts away` pauses that.",
    )
    deliver_waiting(runtime, client, topic, user)


def on_leave(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
    found = resolve_topic(ack, runtime, words, "leave")
    if found is None:
        return
    topic, note = found
    left, released = networks.leave(runtime, topic_key=topic.key, user_id=user, removed_by=user)
    if left is not Outcome.DONE:
        reply(ack, f"{note}You're not in the {topic_name(topic)} network.")
        return
    handed_over = (
        f" {plural(len(released), 'open question')} you had "
        f"{'is' if len(released) == 1 else 'are'} open again for the rest of the network."
        if released
        else ""
    )
    reply(ack, f"{note}You've left the {topic_name(topic)} network.{handed_over}")
    hand_over(runtime, client, user, released)


def on_add_or_remove(adding: bool) -> Callable[[Ack, Runtime, WebClient, str, str], None]:
    verb = "add" if adding else "remove"

    def on_command(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
        people = MENTION.findall(words)
        topic_words = MENTION.sub(" ", words).strip()
        if not people:
            ack(**EXPERTS.reply(f"Whom? Try {code(f'/experts {verb} @person <topic>')}."))
            return
        found = resolve_topic(ack, runtime, topic_words, verb)
        if found is None:
            return
        topic, note = found
        if not networks.may_manage(runtime, user, topic):
            log.warning("Refused /experts %s in %s to %s, not a manager", verb, topic.key, user)
            ack(
                **EXPERTS.reply(
                    f"Only community managers can {verb} other people. You can `/experts join` or "
                    "`/experts leave` yourself."
                )
            )
            return
        people = list(dict.fromkeys(people))
        bots = [p for p in people if adding and not is_person(runtime, client, p)]
        people = [p for p in people if p not in bots]
        changed = change_experts(runtime, client, user, topic, people, adding=adding)
        unchanged = [p for p in people if p not in changed]
        network = f"the {topic_name(topic)} network"
        said = []
        if changed:
            done, direction = ("Added", "to") if adding else ("Removed", "from")
            said.append(f"{done} {mentions(changed)} {direction} {network}.")
        if unchanged:
            already = "already in" if adding else "not in"
            be = "is" if len(unchanged) == 1 else "are"
            said.append(f"{mentions(unchanged)} {be} {already} {network}.")
        if bots:
            said.append(f"{mentions(bots)} can't be an expert: only people answer questions.")
        reply(ack, note + " ".join(said))

    return on_command


def mentions(people: list[str]) -> str:
    """People as mentions in a sentence: "@a", "@a and @b", "@a, @b and @c"."""
    shown = [mention(person) for person in people]
    if not shown:
        return "nobody"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def is_person(runtime: Runtime, client: WebClient, user_id: str) -> bool:
    """Whether `user_id` is a person who can answer (not a bot or an app); when Slack cannot
    say right now, they are taken to be one, as the command named them."""
    try:
        found = slack_person(runtime, client, user_id)
    except LookUpError:
        return True
    return found is None or found.is_human


def change_experts(
    runtime: Runtime,
    client: WebClient,
    manager: str,
    topic: Topic,
    people: list[str],
    *,
    adding: bool,
) -> list[str]:
    """Add people to a network (each is told, and gets the questions waiting for one) or
    take them out (what they held goes to others); who actually changed."""
    changed: list[str] = []
    for person in people:
        joined = (
            networks.join(runtime, topic_key=topic.key, user_id=person, added_by=manager)
            if adding
            else None
        )
        if joined is Outcome.DONE:
            changed.append(person)
            dm(
                client,
                person,
                {
                    "text": (
                        f"{mention(manager)} added you to the {topic_name(topic)} network on "
                        "Eddy. When someone asks something the knowledge index can't answer, I "
                        f"may send it to you. `/experts leave {topic.key}` takes you out."
                    )
                },
            )
            deliver_waiting(runtime, client, topic, person)
        if not adding:
            left, released = networks.leave(
                runtime, topic_key=topic.key, user_id=person, removed_by=manager
            )
            if left is Outcome.DONE:
                changed.append(person)
                hand_over(runtime, client, person, released)
    if changed:
        runtime.notify(HomeChanged(users=tuple(changed), managers=True))
    return changed


def on_list(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
    if words:
        found = resolve_topic(ack, runtime, words, "list")
        if found is not None:
            topic, note = found
            ack(
                text=f"The {escape(topic.name)} network",
                blocks=as_dicts(topic_details(runtime, topic, note)),
            )
        return
    counts = networks.member_counts(runtime)
    lines = []
    for topic in networks.topics(runtime):
        count = counts.get(topic.key, 0)
        where = f" · posts in <#{topic.channel}>" if topic.channel else ""
        lines.append(
            f"{topic_name(topic)} (`{topic.key}`): {plural(count, 'expert')}{where}\n"
            f"{escape(topic.description)}"
        )
    blocks: list[Block] = [section("*Subject-matter networks*")]
    blocks += [section(line) for line in lines[:45]]
    blocks.append(
        context(
            f"{code('/experts list <topic>')} shows who is in one · "
            f"{code('/experts join <topic>')} to help"
        )
    )
    ack(text="Subject-matter networks", blocks=as_dicts(blocks))


def topic_details(runtime: Runtime, topic: Topic, note: str) -> list[Block]:
    people = networks.experts(runtime, topic.key)
    away = networks.away(runtime)
    waiting = networks.open_questions(runtime, topic.key)
    blocks: list[Block] = [
        section(f"{note}{topic_name(topic)} (`{topic.key}`)\n{escape(topic.description)}")
    ]
    who = (
        ", ".join(mention(p) + (" (away)" if p in away else "") for p in people[:50])
        if people
        else "Nobody yet. `/experts join " + topic.key + "` to be the first."
    )
    blocks.append(section(f"*Experts:* {who}"))
    facts = []
    if topic.channel:
        facts.append(f"Questions go to <#{topic.channel}>")
    else:
        facts.append(
            f"Questions go by DM to {plural(topic.experts_per_question, 'expert')} at a time"
        )
    if topic.keywords:
        facts.append("Keywords: " + ", ".join(escape(k) for k in topic.keywords))
    facts.append(plural(len(waiting), "open question"))
    blocks.append(context(*facts))
    return blocks


def on_me(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
    me = networks.profile(runtime, user)
    if me.topics:
        lines = ["You're in: " + ", ".join(topic_name(t) for t in me.topics) + "."]
    else:
        lines = [
            "You're not in any network yet. `/experts list` shows them; "
            f"{code('/experts join <topic>')} to help."
        ]
    if me.away:
        lines.append("You're marked *away*: I won't send you questions until `/experts back`.")
    lines.append(
        f"You've answered {plural(me.answered, 'question')}; {me.resolved} resolved, {me.saved} "
        "saved to the knowledge index."
    )
    for routed in me.claimed[:10]:
        lines.append(
            f"Claimed, waiting for your answer: “{escape(shorten(routed.question, 120))}” "
            f"({topic_name(routed.topic)})"
        )
    reply(ack, "\n".join(lines))


def on_away(away: bool) -> Callable[[Ack, Runtime, WebClient, str, str], None]:
    def on_command(ack: Ack, runtime: Runtime, client: WebClient, user: str, words: str) -> None:
        changed = networks.set_away(runtime, user_id=user, away=away)
        # Away has no end of its own: a note or a return date would be a promise Eddy does
        # not keep, so it says it set them aside.
        said = escape(shorten(typed(words), 60))
        ignored = (
            f" (I don't keep a note or a return date, so I set “{said}” aside: say "
            "`/experts back` when you return.)"
            if words
            else ""
        )
        if away:
            reply(
                ack,
                (
                    "You're marked away: I won't send you new questions until `/experts back`."
                    if changed
                    else "You're already marked away. `/experts back` when you return."
                )
                + ignored,
            )
        else:
            reply(
                ack,
                "Welcome back! I'll send you questions again."
                if changed
                else "You weren't marked away; I'm sending you questions as usual.",
            )

    return on_command


SUBCOMMANDS: dict[str, Callable[[Ack, Runtime, WebClient, str, str], None]] = {
    "join": on_join,
    "leave": on_leave,
    "list": on_list,
    "me": on_me,
    "away": on_away(True),
    "back": on_away(False),
    "add": on_add_or_remove(True),
    "remove": on_add_or_remove(False),
}


# --- sending a question to the experts ----------------------------------------------------


def on_ask_experts(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """The answer's "Ask the experts": a form to confirm the topic and refine the question."""
    ack()
    user, question_id = pressed(body)
    if not networks.topics(runtime):
        answer_presser(runtime, body, respond, NO_NETWORK)
        return
    prepared = networks.prepare(runtime, question_id=question_id or 0, user_id=user)
    if prepared is Outcome.NOT_YOURS:
        answer_presser(
            runtime,
            body,
            respond,
            "Only the person who asked can send this question to the experts. Ask it "
            "yourself with `/ask`, and you can.",
        )
        return
    if isinstance(prepared, Routed):
        answer_presser(
            runtime,
            body,
            respond,
            f"This question is already with the {topic_name(prepared.topic)} network (sent "
            f"{when(prepared.routed_at)}). I'll tell you in our DM when someone answers.",
        )
        return
    if not isinstance(prepared, networks.Preparation):
        answer_presser(runtime, body, respond, GONE)
        return
    view = View(
        type="modal",
        callback_id=QUESTION_MODAL,
        title="Ask the experts",
        submit="Send",
        close="Cancel",
        private_metadata=str(prepared.question_id),
        blocks=[
            text_input(
                QUESTION_BLOCK,
                "Your question",
                initial=prepared.question,
                multiline=True,
            ),
            topic_select(prepared.topics, prepared.suggested.key if prepared.suggested else None),
            context(
                "Add any detail that helps. It goes to the topic's channel, or by DM to a few of "
                "its experts; I'll tell you in our DM where it went."
            ),
        ],
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_question_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = body["user"]["id"]
    question = modal_value(view, QUESTION_BLOCK)
    topic_key = modal_value(view, TOPIC_BLOCK)
    if not question:
        ack(response_action="errors", errors={QUESTION_BLOCK: "Type your question first."})
        return
    if len(question) > MAX_TEXT:
        ack(response_action="errors", errors={QUESTION_BLOCK: too_long(question, MAX_TEXT)})
        return
    if networks.topic(runtime, topic_key) is None:
        ack(response_action="errors", errors={TOPIC_BLOCK: "Choose a topic."})
        return
    sent = networks.send(
        runtime,
        question_id=metadata_id(view) or 0,
        user_id=user,
        topic_key=topic_key,
        question=question,
    )
    if sent is Outcome.NOT_YOURS:
        ack(
            response_action="errors",
            errors={QUESTION_BLOCK: "Sorry, only the person who asked can send this question."},
        )
        return
    if not isinstance(sent, Routed | Sent):
        ack(response_action="errors", errors={QUESTION_BLOCK: GONE})
        return
    ack()
    if isinstance(sent, Routed):
        dm(
            client,
            user,
            {"text": f"That question is already with the {topic_name(sent.topic)} network."},
        )
    else:
        deliver(runtime, client, sent)


def deliver(runtime: Runtime, client: WebClient, sent: Sent) -> None:
    """Post a newly routed question where its plan says, and tell the asker where it went."""
    routed = sent.routed
    if sent.channel:
        try:
            posted = client.chat_postMessage(channel=sent.channel, **question_post(routed, None))
        except SlackApiError as error:
            problem = error.response.get("error")
            log.warning(
                "Could not post to the %s channel %s: %s", routed.topic.key, sent.channel, problem
            )
            alert_managers(
                runtime,
                client,
                routed,
                f"I couldn't post in <#{sent.channel}> (`{problem}`), the channel set for "
                f"{topic_name(routed.topic)} in networks.yml; invite @Eddy there or fix the "
                "channel ID. I sent this question to experts by DM instead.",
            )
            fallback = networks.without_channel(runtime, routed.id)
            if fallback is not None:
                deliver(runtime, client, fallback)
            return
        networks.record_posts(runtime, routed.id, [Post(posted["channel"], posted["ts"], None)])
        dm(
            client,
            routed.asker,
            {
                "text": (
                    f"I've sent your question to the {topic_name(routed.topic)} network in "
                    f"<#{sent.channel}>. I'll tell you here when someone answers."
                )
            },
        )
        return
    delivered = send_question(runtime, client, routed, sent.experts)
    if delivered:
        names = mentions([post.recipient for post in delivered if post.recipient])
        dm(
            client,
            routed.asker,
            {
                "text": (
                    f"I've sent your question to {plural(len(delivered), 'expert')} of the "
                    f"{topic_name(routed.topic)} network: {names}. I'll tell you here when someone "
                    "answers."
                )
            },
        )
        return
    reason = {
        "all away": "all of its experts are away right now",
        "no experts": "nobody has joined its network yet",
    }.get(sent.nobody or "", "none of its experts could be reached on Slack")
    told = alert_managers(
        runtime,
        client,
        routed,
        f"Nobody could be asked, because {reason}. Add experts with `/experts add @person "
        f"{routed.topic.key}`, or claim it yourself.",
    )
    dm(
        client,
        routed.asker,
        {
            "text": (
                f"I couldn't send your question to anyone: {reason} ({topic_name(routed.topic)}). "
                f"{who_knows(runtime, routed, told, TOLD)} I'll pass your question on as soon "
                "as an expert is available."
            )
        },
    )


def alert_managers(
    runtime: Runtime, client: WebClient, routed: Routed, why: str
) -> tuple[str, ...]:
    """DM the topic's managers (never the asker) the question with Claim and Answer; who
    actually got the message, so the asker is told only what happened. Each alert is
    recorded as a notice of the question, so a manager who answers in its thread answers
    the question."""
    managers = networks.managers_of(runtime, routed.topic)
    if not managers:
        log.warning(
            "Question %s (%s) needs a manager, but none is set (EDDY_MANAGERS)",
            routed.id,
            routed.topic.key,
        )
    headline = f"*Needs you:* {why}"
    alerts = [
        post
        for manager in managers
        if manager != routed.asker
        and (post := dm(client, manager, question_post(routed, manager, headline=headline)))
    ]
    networks.record_posts(runtime, routed.id, [notice(post) for post in alerts])
    networks.record_action_posts(runtime, networks.MANAGER_ALERT, routed.id, alerts)
    return tuple(post.recipient for post in alerts if post.recipient)


#: What the asker reads when managers were reached ({names}, {topic}).
TOLD = "I've told {names}, who {look} after {topic}."
ASKED = "I've asked {names}, who {look} after {topic}, to find someone."


def who_knows(runtime: Runtime, routed: Routed, told: tuple[str, ...], sentence: str) -> str:
    """The sentence telling an asker who was alerted about their question (`sentence`: TOLD
    or ASKED), true to what happened: nobody to tell, only the asker themselves, or managers
    Slack would not let Eddy reach."""
    topic, key = topic_name(routed.topic), routed.topic.key
    managers = networks.managers_of(runtime, routed.topic)
    match networks.alerted(managers, told, routed.asker):
        case networks.Alerted.TOLD:
            look = "looks" if len(told) == 1 else "look"
            return sentence.format(names=mentions(list(told)), look=look, topic=topic)
        case networks.Alerted.NOBODY_SET:
            return (
                f"Nobody looks after {topic} yet, so I couldn't tell anyone: whoever runs Eddy "
                "can name community managers in EDDY_MANAGERS."
            )
        case networks.Alerted.ONLY_ASKER:
            return (
                f"You look after {topic} yourself, so there was nobody else to tell: add "
                f"experts with `/experts add @person {key}`."
            )
    others = [user for user in managers if user != routed.asker]
    look = "looks" if len(others) == 1 else "look"
    return (
        f"I couldn't reach {mentions(others)}, who {look} after {topic}, on Slack, so nobody "
        "knows yet; please tell them yourself."
    )


def notice(post: Post) -> Post:
    """A post recorded as a notice (see `networks.Post`)."""
    return Post(post.channel, post.ts, post.recipient, notice=True)


def send_question(
    runtime: Runtime, client: WebClient, routed: Routed, experts: Iterable[str]
) -> list[Post]:
    """DM each expert the question (their own copy, with Claim) and record where it went, so
    that their reply in its thread reaches the question; the posts Slack took."""
    delivered = [
        post
        for post in (dm(client, expert, question_post(routed, expert)) for expert in experts)
        if post is not None
    ]
    networks.record_posts(runtime, routed.id, delivered)
    return delivered


def deliver_waiting(runtime: Runtime, client: WebClient, topic: Topic, expert: str) -> None:
    """Send a new expert the topic's questions that nobody could be asked before."""
    for routed in networks.waiting_for_experts(runtime, topic.key):
        if routed.asker == expert:
            continue
        if send_question(runtime, client, routed, [expert]):
            dm(
                client,
                routed.asker,
                {
                    "text": (
                        f"Good news: {mention(expert)} just joined the "
                        f"{topic_name(topic)} network, and "
                        "I've sent them your question."
                    )
                },
            )


def hand_over(
    runtime: Runtime, client: WebClient, leaver: str, released: list[networks.Released]
) -> None:
    """After someone left a network: their questions go back to it, or on to someone else."""
    for item in released:
        routed = item.routed
        refresh_posts(runtime, client, routed, skip=leaver)
        for post in networks.posts(runtime, routed.id):
            if post.notice:
                continue
            if post.recipient == leaver:
                try:
                    client.chat_update(
                        channel=post.channel,
                        ts=post.ts,
                        text="You left this network.",
                        blocks=as_dicts(
                            [
                                section(quoted(routed.question)),
                                context(
                                    f"You left the {topic_name(routed.topic)} network, "
                                    "so this question is open again for the rest of it. "
                                    "Thanks!"
                                ),
                            ]
                        ),
                    )
                except SlackApiError as error:
                    log.warning("Could not update a post: %s", error.response.get("error"))
            elif post.recipient is None and item.was_claimed:
                post_in_thread(
                    client,
                    post,
                    f"{mention(leaver)} left the network, so this "
                    "question is open again. Can someone "
                    "claim it?",
                )
        send_question(runtime, client, routed, item.new_experts)
        if item.was_claimed:
            dm(
                client,
                routed.asker,
                {
                    "text": (
                        f"{mention(leaver)} can no longer answer your question "
                        f"“{escape(shorten(routed.question, 150))}”, so "
                        "it's open again for the "
                        f"{topic_name(routed.topic)} network."
                    )
                },
            )


# --- claim and answer ---------------------------------------------------------------------


def on_claim(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, routed_id = pressed(body)
    outcome, routed = networks.claim(runtime, routed_id=routed_id or 0, user_id=user)
    if outcome is Outcome.DONE and routed is not None:
        refresh_posts(runtime, client, routed)
        # The pressed message may be one Eddy does not track (a manager's alert): redraw it too.
        if can_respond(respond):
            respond(replace_original=True, **question_post(routed, user))
        answer_presser(
            runtime, body, respond, "It's yours. Answer in this thread, or with the Answer button."
        )
        dm(
            client,
            routed.asker,
            {
                "text": (
                    f"{mention(user)} is looking at your question "
                    f"“{escape(shorten(routed.question, 150))}”."
                )
            },
        )
    elif outcome is Outcome.TAKEN and routed is not None:
        answer_presser(runtime, body, respond, taken(routed))
    elif outcome is Outcome.ALREADY:
        answer_presser(
            runtime,
            body,
            respond,
            "You've claimed this one already. Answer in this thread, or with the Answer button.",
        )
    elif outcome is Outcome.NOT_YOURS:
        answer_presser(
            runtime,
            body,
            respond,
            "You asked this one, so you can't claim it; the experts will answer.",
        )
    elif outcome is Outcome.NOT_ALLOWED:
        answer_presser(runtime, body, respond, NOT_SENT_TO_YOU)
    else:
        answer_presser(runtime, body, respond, GONE)


def taken(routed: Routed) -> str:
    if routed.status in (networks.ANSWERED, networks.RESOLVED):
        return f"{mention(routed.answered_by)} has already answered this one. Thanks!"
    since = f" ({when(routed.claimed_at)})" if routed.claimed_at else ""
    return f"{mention(routed.claimed_by)} claimed this one first{since}. Thanks!"


def taken_plainly(routed: Routed) -> str:
    """`taken` as plain text, for a modal's errors (no mentions or dates there)."""
    if routed.status in (networks.ANSWERED, networks.RESOLVED):
        return "Someone has already answered this one. Thanks!"
    return "Someone else claimed this one first. Thanks!"


def on_answer_button(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, routed_id = pressed(body)
    outcome, routed = networks.answerable(runtime, routed_id=routed_id or 0, user_id=user)
    if outcome is Outcome.NOT_YOURS:
        answer_presser(
            runtime, body, respond, "You asked this one, so you can't answer it; the experts will."
        )
        return
    if outcome is Outcome.NOT_ALLOWED:
        answer_presser(runtime, body, respond, NOT_SENT_TO_YOU)
        return
    if outcome is Outcome.TAKEN and routed is not None:
        answer_presser(runtime, body, respond, taken(routed))
        return
    if outcome is not Outcome.DONE or routed is None:
        answer_presser(runtime, body, respond, GONE)
        return
    view = View(
        type="modal",
        callback_id=ANSWER_MODAL,
        title="Answer",
        submit="Send answer",
        close="Cancel",
        private_metadata=str(routed.id),
        blocks=[
            section(f"{mention(routed.asker)} asked:\n{quoted(routed.question, 1500)}"),
            text_input(ANSWER_BLOCK, "Your answer", multiline=True, limit=ANSWER_LIMIT),
            context("I'll send it to the asker, and post it in the question's thread."),
        ],
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_answer_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = body["user"]["id"]
    text = modal_value(view, ANSWER_BLOCK)
    if not text:
        ack(response_action="errors", errors={ANSWER_BLOCK: "Write your answer first."})
        return
    if len(text) > ANSWER_LIMIT:
        ack(response_action="errors", errors={ANSWER_BLOCK: too_long(text, ANSWER_LIMIT)})
        return
    routed_id = metadata_id(view) or 0
    outcome, routed = networks.answer(runtime, routed_id=routed_id, user_id=user, text=text)
    if outcome is Outcome.TAKEN and routed is not None:
        ack(response_action="errors", errors={ANSWER_BLOCK: taken_plainly(routed)})
        return
    if outcome is Outcome.NOT_ALLOWED:
        ack(response_action="errors", errors={ANSWER_BLOCK: NOT_SENT_TO_YOU})
        return
    if outcome in (Outcome.GONE, Outcome.NOT_YOURS) or routed is None:
        ack(
            response_action="errors",
            errors={ANSWER_BLOCK: "This question can't be answered any more."},
        )
        return
    ack()
    post = post_of(runtime, routed, user)
    if post is not None:
        post_in_thread(client, post, f"*Answer from {mention(user)}:*\n{escape(text)}")
    answered(runtime, client, routed, user, text, outcome, post)


def answered(
    runtime: Runtime,
    client: WebClient,
    routed: Routed,
    expert: str,
    text: str,
    outcome: Outcome,
    post: Post | None,
) -> bool:
    """Tell the asker: the answer (first time), or the expert's follow-up; whether the
    message reached them."""
    if outcome is Outcome.DONE:
        refresh_posts(runtime, client, routed)
        told = dm(client, routed.asker, answer_for_asker(routed, link_to(client, post)))
        # Once resolved, it offers Save: redrawn when someone has saved the answer.
        networks.record_action_posts(
            runtime, networks.ASKER_ANSWER, routed.id, [told] if told is not None else []
        )
        tell_asker_in_thread(runtime, routed, told)
        listening.show_experts_answer(runtime, client, routed, expert, text)
        return told is not None
    if outcome is not Outcome.ALREADY:
        return False
    added = (
        f"{mention(expert)} added to their answer to "
        f"“{escape(shorten(routed.question, 150))}”:\n{quoted(text, 2500)}"
    )
    message: dict[str, Any] = {"text": added}
    if routed.status == networks.ANSWERED:  # not resolved yet: resolved now, or not yet?
        message["blocks"] = as_dicts([section(added), resolved_or_not(routed)])
    sent = dm(client, routed.asker, message)
    tell_asker_in_thread(runtime, routed, sent)
    return sent is not None


def tell_asker_in_thread(runtime: Runtime, routed: Routed, sent: Post | None) -> None:
    """Record a message to the asker about their question's answer as a notice, so that what
    they reply in its thread (a thank-you, a "but what about…") reaches whoever answered
    (`asker_follow_up`) instead of being searched as a new question."""
    if sent is not None:
        networks.record_posts(runtime, routed.id, [notice(sent)])


def only_routed_threads(
    body: dict[str, Any], context: BoltContext, next: Callable[[], None]
) -> None:
    """Let a message through only when it replies in the thread of a routed question's post;
    anything else is for the next listener."""
    event = body.get("event") or {}
    thread = event.get("thread_ts")
    if (
        not thread
        or thread == event.get("ts")
        or event.get("bot_id")
        or event.get("subtype") not in (None, "thread_broadcast")
    ):
        return
    found = networks.routed_in_thread(
        context["runtime"], channel=event.get("channel", ""), thread_ts=thread
    )
    if found is None:
        return
    context["routed_thread"] = found
    next()


def on_thread_reply(
    event: dict[str, Any], context: BoltContext, client: WebClient, runtime: Runtime
) -> None:
    """A reply in a routed question's thread: the claimer's (or, while nobody has claimed
    it, anyone's) first reply is the answer; their later replies reach the asker too, and
    another expert's reply is passed on (`passed_on`)."""
    routed, post = context["routed_thread"]
    user, text = event.get("user", ""), typed(event.get("text", "")).strip()
    if not user or not text:
        return
    if user == routed.asker:
        # In a channel's thread the experts read it themselves; in the asker's own DM only
        # Eddy does, so it is passed on.
        if post.recipient == user:
            asker_follow_up(runtime, client, routed, text, post)
        return
    outcome, current = networks.answer(runtime, routed_id=routed.id, user_id=user, text=text)
    if outcome is Outcome.NOT_ALLOWED:
        post_in_thread(client, post, NOT_SENT_TO_YOU)
        return
    if current is None:
        return
    if outcome is Outcome.TAKEN:
        passed_on(runtime, client, current, user, text, post)
        return
    delivered = answered(runtime, client, current, user, text, outcome, post)
    if outcome is Outcome.DONE:
        post_in_thread(
            client,
            post,
            f"Thanks {mention(user)}! I've sent your answer to {mention(current.asker)}."
            if delivered
            else f"Thanks {mention(user)}! I couldn't reach {mention(current.asker)} on Slack "
            "just now, so they haven't seen your answer yet; it is saved with the question.",
        )


def passed_on(
    runtime: Runtime, client: WebClient, routed: Routed, expert: str, text: str, post: Post
) -> None:
    """Another expert replied after someone else took the question. What they wrote is help
    all the same, so nothing is dropped: the asker gets it by DM, marked as from a second
    expert (the answer itself stays the holder's, for Resolved and the knowledge index); the
    holder gets it in their own thread of the question unless they share this one (a
    channel's thread, where they see it already); and the expert is told, in their thread,
    who has the question and where their words went."""
    holder = routed.answered_by or routed.claimed_by or ""
    asked = f"“{escape(shorten(routed.question, 150))}”"
    to_asker = dm(
        client,
        routed.asker,
        {
            "text": (
                f"{mention(expert)} also replied about your question {asked}:\n{quoted(text, 2500)}"
            )
        },
    )
    told = [mention(routed.asker)]
    tell_asker_in_thread(runtime, routed, to_asker)
    theirs = post_of(runtime, routed, holder) if holder else None
    if holder and holder != expert and (theirs is None or theirs != post):
        note = f"{mention(expert)} also replied about this question:\n{quoted(text, 2500)}"
        if theirs is not None:
            post_in_thread(client, theirs, note)
        elif sent := dm(client, holder, {"text": note}):
            networks.record_posts(runtime, routed.id, [notice(sent)])
        told.insert(0, mention(holder))
    post_in_thread(
        client,
        post,
        f"Thanks {mention(expert)}! {mention(holder)} has this question, so I've passed your "
        f"reply on to {' and '.join(told)}.",
    )


def asker_follow_up(
    runtime: Runtime, client: WebClient, routed: Routed, text: str, post: Post
) -> None:
    """The asker replied in the thread of a DM about their answer: their words go to whoever
    holds the question (in that person's thread of it, or by DM), and the asker is told
    where they went, or that nobody holds it to pass them to."""
    holder = routed.answered_by or routed.claimed_by
    if not holder or is_former_member(holder):
        post_in_thread(
            client,
            post,
            "Nobody is working on this question now, so there's no one I can pass this on to. "
            "To ask something new, use `/ask` or write to me outside this thread.",
        )
        return
    note = (
        f"{mention(routed.asker)} replied about “{escape(shorten(routed.question, 150))}”:\n"
        f"{quoted(text, 2500)}"
    )
    theirs = post_of(runtime, routed, holder)
    reached = post_in_thread(client, theirs, note) if theirs is not None else None
    if reached is None and (sent := dm(client, holder, {"text": note})) is not None:
        networks.record_posts(runtime, routed.id, [notice(sent)])
        reached = sent
    post_in_thread(
        client,
        post,
        f"I've passed that on to {mention(holder)}."
        if reached is not None
        else f"I couldn't reach {mention(holder)} on Slack just now, so I couldn't pass that on. "
        "Try again in a little while.",
    )


# --- resolved, and back into the index ----------------------------------------------------


def save_prompt(routed: Routed, *, done: str | None) -> dict[str, Any]:
    """What the expert reads when the asker marks their answer resolved: the offer to save it,
    or (`done`) what became of it."""
    thanks = f"{mention(routed.asker)} marked your answer as resolved. Thank you!"
    if done is not None:
        return {"text": thanks, "blocks": as_dicts([section(thanks), context(done)])}
    offer = section(thanks + " If others may ask this too, save it to the knowledge index.")
    save = ActionsBlock(elements=[button("Save to knowledge index", SAVE, routed.id, "primary")])
    return {"text": thanks, "blocks": as_dicts([offer, save])}


def on_resolved(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, routed_id = pressed(body)
    outcome, routed = networks.resolve(runtime, routed_id=routed_id or 0, user_id=user)
    if routed is None or outcome in (Outcome.GONE, Outcome.NOT_YOURS):
        answer_presser(
            runtime,
            body,
            respond,
            "Only the person who asked can mark this resolved."
            if outcome is Outcome.NOT_YOURS
            else GONE,
        )
        return
    post = post_of(runtime, routed, routed.answered_by)
    if can_respond(respond):
        respond(replace_original=True, **answer_for_asker(routed, link_to(client, post)))
    if outcome is not Outcome.DONE:
        return
    refresh_posts(runtime, client, routed)
    save = save_prompt(routed, done=None)
    prompt = None
    if post is not None:
        prompt = post_in_thread(client, post, save["text"], blocks=save["blocks"])
    elif routed.answered_by:
        prompt = dm(client, routed.answered_by, save)
    sent = [prompt] if prompt is not None else []
    networks.record_action_posts(runtime, networks.SAVE_PROMPT, routed.id, sent)


def on_not_yet(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, routed_id = pressed(body)
    outcome, routed = networks.not_yet(runtime, routed_id=routed_id or 0, user_id=user)
    if outcome is not Outcome.DONE or routed is None:
        answer_presser(
            runtime,
            body,
            respond,
            "Only the person who asked can say this." if outcome is Outcome.NOT_YOURS else GONE,
        )
        return
    note = (
        f"{mention(routed.asker)} says this doesn't resolve their question yet. Reply in "
        "this thread to add more; I'll pass it on."
    )
    post = post_of(runtime, routed, routed.answered_by)
    if post is not None:
        reached = post_in_thread(client, post, note) is not None
    elif routed.answered_by:
        sent = dm(client, routed.answered_by, {"text": note})
        networks.record_posts(runtime, routed.id, [notice(sent)] if sent else [])
        reached = sent is not None
    else:
        reached = False
    if not reached:
        answer_presser(
            runtime,
            body,
            respond,
            f"I couldn't reach {mention(routed.answered_by)} on Slack just now, so they don't "
            "know yet; please message them yourself.",
        )
        return
    told = (
        f"You said this doesn't resolve your question yet. I've told "
        f"{mention(routed.answered_by)}; their reply will come here. To say what's missing, "
        "reply in this message's thread and I'll pass it on."
    )
    if can_respond(respond):
        answer = answer_for_asker(routed, link_to(client, post), told=told)
        respond(replace_original=True, **answer)
    else:
        answer_presser(runtime, body, respond, told)


def on_save_button(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Who may save a resolved answer is the networks' to say; the form that drafts it is the
    review queue's (`handlers.review.save_answer`)."""
    ack()
    user, routed_id = pressed(body)
    outcome, routed = networks.savable(runtime, routed_id=routed_id or 0, user_id=user)
    if outcome is Outcome.NOT_ALLOWED:
        answer_presser(runtime, body, respond, NOT_A_SAVER)
        return
    if outcome is Outcome.UNRESOLVED:
        answer_presser(
            runtime, body, respond, "Only a resolved answer can be saved to the knowledge index."
        )
        return
    if outcome is not Outcome.DONE or routed is None:
        answer_presser(runtime, body, respond, GONE)
        return
    save_answer(runtime, body, respond, client, routed)


# --- escalation ---------------------------------------------------------------------------


def send_escalation(runtime: Runtime, client: WebClient, notice: Escalation) -> None:
    routed = notice.routed
    waited = runtime.clock.now() - routed.routed_at
    hours = max(1, round(waited.total_seconds() / 3600))
    waiting = f"{hours} hour{'s' * (hours != 1)}" if hours <= HOURS_LIMIT else f"{hours // 24} days"
    if notice.notify == NOTIFY_MANAGERS:
        told = alert_managers(
            runtime,
            client,
            routed,
            f"this question has waited {waiting} and nobody has claimed it.",
        )
        dm(
            client,
            routed.asker,
            {
                "text": (
                    f"Your question “{escape(shorten(routed.question, 150))}” is taking longer "
                    f"than usual. {who_knows(runtime, routed, told, ASKED)}"
                )
            },
        )
        return
    reminder = (
        f"This question has waited {waiting} with nobody on it. Can someone from "
        f"{topic_name(routed.topic)} claim it?"
    )
    for post in networks.posts(runtime, routed.id):
        if not post.notice:
            post_in_thread(client, post, reminder, reply_broadcast=post.recipient is None)
    send_question(runtime, client, routed, notice.new_experts)


# --- the managers' console (App Home) --------------------------------------------------------

EXPERTS_EDIT, EXPERTS_MODAL, EXPERTS_BLOCK = (
    "experts_console_edit",
    "experts_console_modal",
    "experts_console_people",
)
#: Slack's multi-users select takes at most this many initial users.
PEOPLE_SHOWN = 100


def register_console(app: App) -> None:
    app.action(EXPERTS_EDIT)(on_edit_experts)
    app.view(EXPERTS_MODAL)(on_experts_submitted)


def topic_summary(summary: networks.TopicSummary) -> SectionBlock:
    """A network in the console: its experts, what waits, how fast it answers."""
    topic = summary.topic
    experts = (
        f"{plural(len(summary.experts), 'expert')}: "
        + ", ".join(mention(p) for p in summary.experts[:15])
        if summary.experts
        else "no experts yet"
    )
    if len(summary.experts) > 15:
        experts += f" and {len(summary.experts) - 15} more"
    speed = (
        f"first response in {duration(summary.first_response)} (median)"
        if summary.first_response is not None
        else "no responses yet"
    )
    overdue = f" · ⚠️ {summary.overdue} overdue" if summary.overdue else ""
    return SectionBlock(
        text=(
            f"*{escape(topic.name)}* (`{topic.key}`) · {experts}\n"
            f"{summary.open} waiting · {summary.claimed} claimed{overdue} · {speed}"
        ),
        accessory=button("Edit experts", EXPERTS_EDIT, topic.key),
    )


def on_edit_experts(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user = body["user"]["id"]
    chosen = networks.topic(runtime, action_value(body))
    if chosen is None:
        runtime.notify(HomeNotice(user, "That topic no longer exists."))
        return
    if not networks.may_manage(runtime, user, chosen):
        log.warning("Refused the experts of %s to %s, not a manager", chosen.key, user)
        runtime.notify(HomeNotice(user, "Only community managers can change who is an expert."))
        return
    current = networks.experts(runtime, chosen.key)
    view = View(
        type="modal",
        callback_id=EXPERTS_MODAL,
        title="Experts",
        submit="Save",
        close="Cancel",
        private_metadata=chosen.key,
        blocks=[
            section(f"*{escape(chosen.name)}* (`{chosen.key}`)\n{escape(chosen.description)}"),
            InputBlock(
                block_id=EXPERTS_BLOCK,
                label="Experts",
                optional=True,
                element=UserMultiSelectElement(
                    action_id=EXPERTS_BLOCK,
                    initial_users=current[:PEOPLE_SHOWN],
                    placeholder="Add people",
                ),
            ),
            context(
                "People you add are told and get the questions waiting for an expert; people "
                "you remove hand what they claimed to the others."
                + (
                    f" Only the first {PEOPLE_SHOWN} are shown."
                    if len(current) > PEOPLE_SHOWN
                    else ""
                )
            ),
        ],
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_experts_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = body["user"]["id"]
    chosen = networks.topic(runtime, metadata_text(view))
    if chosen is None or not networks.may_manage(runtime, user, chosen):
        log.warning("Refused an experts change by %s for %r", user, metadata_text(view)[:80])
        ack(
            response_action="errors",
            errors={EXPERTS_BLOCK: "Only community managers can change who is an expert."},
        )
        return
    chosen_users = entered(view, EXPERTS_BLOCK).get("selected_users")
    if not isinstance(chosen_users, list):  # not what the form sends: change nobody
        ack(response_action="errors", errors={EXPERTS_BLOCK: "Choose the experts again."})
        return
    picked = [person for person in chosen_users if isinstance(person, str)]
    current = networks.experts(runtime, chosen.key)
    bots = [p for p in picked if p not in current and not is_person(runtime, client, p)]
    if bots:
        ack(
            response_action="errors",
            errors={
                EXPERTS_BLOCK: "Only people can be experts: take Eddy and any other app out "
                "of the list."
            },
        )
        return
    ack()
    shown = set(current[:PEOPLE_SHOWN])
    added = change_experts(
        runtime, client, user, chosen, [p for p in picked if p not in current], adding=True
    )
    removed = change_experts(
        runtime, client, user, chosen, [p for p in shown if p not in picked], adding=False
    )
    parts = [f"added {', '.join(mention(p) for p in added)}" if added else ""]
    parts.append(f"removed {', '.join(mention(p) for p in removed)}" if removed else "")
    done = "; ".join(part for part in parts if part) or "no change"
    runtime.notify(HomeNotice(user, f"{topic_name(chosen)}: {done}."))


def claim_from_home(runtime: Runtime, client: WebClient, user: str, routed_id: int) -> str:
    """Claim a question from the Home tab: the question comes to the claimer's DM, where a
    reply in its thread (or its Answer button) answers it. What to tell them."""
    outcome, routed = networks.claim(runtime, routed_id=routed_id, user_id=user)
    if outcome is Outcome.TAKEN and routed is not None:
        return taken(routed)
    if outcome is Outcome.ALREADY:
        return "You've claimed this one already; it's in your DMs with Eddy."
    if outcome is Outcome.NOT_YOURS:
        return "You asked this one, so you can't claim it; the experts will answer."
    if outcome is Outcome.NOT_ALLOWED:
        return NOT_SENT_TO_YOU
    if outcome is not Outcome.DONE or routed is None:
        return GONE
    refresh_posts(runtime, client, routed)
    # The experts it was sent to (and alerted managers) have it in their DMs already, redrawn
    # as claimed: a second copy would leave them two threads to answer in.
    if not any(post.recipient == user for post in networks.posts(runtime, routed.id)):
        send_question(runtime, client, routed, [user])
    dm(
        client,
        routed.asker,
        {
            "text": (
                f"{mention(user)} is looking at your question "
                f"“{escape(shorten(routed.question, 150))}”."
            )
        },
    )
    return "It's yours: the question is in your DMs with Eddy. Answer in its thread."
