"""The review queue in Slack, and the one home of drafts there: a draft's card and the entry
form, "Save to knowledge index" once the networks hand a resolved answer over
(`save_answer`), the "Save to Eddy" message shortcut, the reviewers' Approve / Edit / Reject
(on a draft's DM card or in the Home tab's review queue), the live entries' View / Edit /
Looks fine / Mark reviewed, "Write entry" from a knowledge gap, and the owners' review
reminders.

Every decision is checked again on the server (bot/review.py, bot/networks.py) whatever
buttons the person saw: a forged payload from a non-manager changes nothing, is logged, and
its sender is told no. A button pressed on the Home tab is answered on the Home tab (there is
no thread there to answer in); one pressed on a DM card is answered under it.

handlers.networks imports this module, never the other way round: when a draft of a routed
question's answer is proposed or decided, the question's posts are redrawn through a notice
(`bot.review.AnswerDraftChanged`) that the networks' handlers deliver.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import gaps, networks, review
from bot.content.entries import KnowledgeEntry
from bot.content.limits import FORM_TEXT_LIMIT, TITLE_LIMIT
from bot.content.networks import Topic
from bot.gaps import Gap
from bot.networks import Outcome, Routed
from bot.review import (
    AnswerDraftChanged,
    Draft,
    Flagged,
    ImportBatch,
    Learned,
    Overdue,
    ReviewReminder,
)
from bot.runtime import Runtime
from bot.text import plural
from handlers import people
from handlers.ask import entry_blocks
from handlers.blocks import (
    USER_ID,
    WEB_ADDRESS,
    as_dicts,
    button,
    context,
    escape,
    link,
    markdown_to_slack,
    mention,
    section,
    sections,
    shorten,
    slack_to_markdown,
    typed,
    typed_input,
    when,
)
from handlers.forms import TOPIC_BLOCK, modal_value, text_input, too_long, topic_select
from handlers.slack import dm
from handlers.slash import MAX_TEXT
from handlers.values import (
    action_value,
    answer_presser,
    can_respond,
    entered,
    metadata_text,
    pressed_id,
    presser,
    row_id,
    seal,
    unseal,
)

log = logging.getLogger(__name__)

SAVE_SHORTCUT = "save_to_eddy"
#: A draft's Approve / Edit / Reject, and the forms that draft a routed question's answer and
#: edit a draft before approving it. They keep the "experts_" ids they had when they were the
#: networks': cards and forms already open in people's Slack still carry them.
APPROVE, EDIT, REJECT = "experts_approve", "experts_edit", "experts_reject"
APPROVE_IMPORT = "review_approve_import"
SAVE_MODAL, EDIT_MODAL = "experts_save_modal", "experts_edit_modal"
TITLE_BLOCK, BODY_BLOCK, WORDINGS_BLOCK = "entry_title", "entry_body", "entry_questions"
SUGGEST_MODAL, REJECT_MODAL, ENTRY_MODAL, GAP_MODAL = (
    "review_suggest_modal",
    "review_reject_modal",
    "review_entry_modal",
    "review_gap_modal",
)
VIEW_DRAFT, VIEW_ENTRY, EDIT_ENTRY, LOOKS_FINE, STILL_TRUE, WRITE_GAP = (
    "review_view_draft",
    "review_view_entry",
    "review_edit_entry",
    "review_looks_fine",
    "review_still_true",
    "review_write_gap",
)
CONFIRM_LEARNED, REMOVE_LEARNED = "review_confirm_learned", "review_remove_learned"
#: Remove an entry whose imported page is gone from its source (beside "Keep it").
REMOVE_GONE = "review_remove_gone"
#: Slack's most blocks in a modal; and the blocks a flagged entry's learned wordings may take
#: in the review queue, a page of many items.
VIEW_BLOCKS, QUEUE_LEARNED_ROOM = 100, 7
REASON_BLOCK = "review_reason"
NOT_A_SAVER = (
    "Only the expert who answered, the person who asked, or a community manager can save this."
)
#: The networks' words for a routed question that is gone (handlers.networks.GONE).
QUESTION_GONE = "That question is no longer open (it was removed, or its topic is gone)."
NOT_A_REVIEWER = "Only community managers (or the topic's managers) can review entries."
NOT_AN_EDITOR = "Only community managers and its owner can edit an entry."
NOT_A_MANAGER = "Only community managers can do that."
FORM_NOT_OURS = "Sorry, I can't take this form: open it again from the message's menu."
#: Slack's limit for a view's private_metadata.
PRIVATE_METADATA_LIMIT = 3000
QUEUE_HEADINGS = {
    "ImportBatch": "*Imported, waiting for review*",
    "Draft": "*Proposed in Slack*",
    "Flagged": "*Marked Not helpful*",
    "Overdue": "*Due for review*",
}
#: Slack's limit for a message's or modal's blocks; long drafts are cut to fit.
BLOCKS_PER_MODAL = 100


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    """Review's listeners, and the review reminders the scheduled job decides."""
    app.shortcut(SAVE_SHORTCUT)(on_save_message)
    app.view(SAVE_MODAL)(on_save_submitted)
    app.view(SUGGEST_MODAL)(on_suggestion_submitted)
    app.action(APPROVE)(on_approve)
    app.action(APPROVE_IMPORT)(on_approve_import)
    app.action(REJECT)(on_reject)
    app.view(REJECT_MODAL)(on_reject_submitted)
    app.action(EDIT)(on_edit_draft)
    app.view(EDIT_MODAL)(on_edit_draft_submitted)
    app.action(VIEW_DRAFT)(on_view_draft)
    app.action(VIEW_ENTRY)(on_view_entry)
    app.action(EDIT_ENTRY)(on_edit_entry)
    app.view(ENTRY_MODAL)(on_entry_submitted)
    app.action(LOOKS_FINE)(on_looks_fine)
    app.action(REMOVE_GONE)(on_remove_gone)
    app.action(STILL_TRUE)(on_still_true)
    app.action(WRITE_GAP)(on_write_gap)
    app.action(CONFIRM_LEARNED)(on_confirm_learned)
    app.action(REMOVE_LEARNED)(on_remove_learned)
    app.view(GAP_MODAL)(on_gap_submitted)
    runtime.listen(ReviewReminder, lambda reminder: remind(runtime, client, reminder))


# --- the queue as the console shows it ---------------------------------------------------------


def queue_item(runtime: Runtime, item: Draft | Flagged | Overdue | ImportBatch) -> list[Block]:
    if isinstance(item, Draft):
        return draft_item(item)
    if isinstance(item, ImportBatch):
        return batch_item(item)
    if isinstance(item, Flagged) and item.gone_from is not None:
        entry = item.entry
        return [
            section(
                f"*{escape(entry.title)}* · its page is gone from the imported source "
                f"*{escape(item.gone_from)}* · kept, so that it still answers until you decide"
            ),
            entry_actions(
                entry.slug,
                button("Keep it", LOOKS_FINE, entry.slug),
                ButtonElement(
                    text="Remove",
                    action_id=REMOVE_GONE,
                    value=entry.slug,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Remove this entry?",
                        text=f"*{shorten(escape(entry.title), 200)}* will no longer answer "
                        "anyone. Importing its page again brings it back.",
                        confirm="Remove",
                        deny="Cancel",
                        style="danger",
                    ),
                ),
            ),
        ]
    if isinstance(item, Flagged):
        entry = item.entry
        return [
            section(
                f"*{escape(entry.title)}* · 👎 {item.not_helpful} not helpful, "
                f"{item.helpful} helpful · last flagged {when(item.flagged_at)}"
            ),
            entry_actions(entry.slug, button("Looks fine", LOOKS_FINE, entry.slug)),
            *learned_blocks(item.learned, room=QUEUE_LEARNED_ROOM),
        ]
    entry = item.entry
    last = (
        f"last reviewed {item.last_reviewed:%-d %b %Y}" if item.last_reviewed else "never reviewed"
    )
    owner = f"kept by {mention(entry.owner)}" if entry.owner else "no owner"
    reminded = f" · owner reminded {when(item.reminded_at)}" if item.reminded_at else ""
    return [
        section(
            f"*{escape(entry.title)}* · {last} · due {item.due_on:%-d %b %Y} · {owner}{reminded}"
        ),
        entry_actions(entry.slug, button("Mark reviewed", STILL_TRUE, entry.slug)),
    ]


#: Drafts of an import shown one by one in its batch (the rest: Approve all, or one by one
#: as the first ones are decided).
BATCH_SHOWN = 3


def batch_item(batch: ImportBatch) -> list[Block]:
    """An import's waiting pages: a few to look at, and Approve all."""
    count = len(batch.drafts)
    approve_all = ButtonElement(
        text=shorten(f"Approve all {count}", 75),
        action_id=APPROVE_IMPORT,
        value=shorten(batch.source, 1900),
        style="primary",
        confirm=ConfirmObject(
            title="Approve them all?",
            text=f"The {count} pages imported from {escape(batch.source)} will answer at once.",
            confirm="Approve all",
            deny="Cancel",
        ),
    )
    blocks: list[Block] = [
        SectionBlock(
            text=f"*{escape(batch.source)}*: {plural(count, 'imported page')} waiting",
            accessory=approve_all,
        )
    ]
    for draft in batch.drafts[:BATCH_SHOWN]:
        blocks += draft_item(draft)
    if count > BATCH_SHOWN:
        blocks.append(context(f"…and {count - BATCH_SHOWN} more from this import."))
    return blocks


def draft_item(draft: Draft) -> list[Block]:
    origin = (
        f"from {link(draft.source_url, 'its source' if draft.kind == 'import' else 'a message')}"
        if draft.source_url
        else {"message": "from a message", "import": "imported"}.get(
            draft.kind, "from an expert's answer"
        )
    )
    proposed = f" {when(draft.proposed_at)}" if draft.proposed_at else ""
    body = shorten(one_line(markdown_to_slack(draft.body)), 200)
    return [
        section(
            f"*{escape(draft.title)}* · {origin}, proposed by {mention(draft.proposed_by)}"
            f"{proposed}\n>{body}"
        ),
        ActionsBlock(
            elements=[
                button("View", VIEW_DRAFT, draft.id),
                button("Edit", EDIT, draft.id),
                button("Approve", APPROVE, draft.id, "primary"),
                button("Reject", REJECT, draft.id, "danger"),
            ],
        ),
    ]


def is_link(value: Any) -> bool:
    """Whether a value round-tripped through a modal is a web address a draft can keep."""
    return (
        isinstance(value, str)
        and len(value) <= review.SOURCE_URL_LIMIT
        and WEB_ADDRESS.fullmatch(value) is not None
    )


def one_line(mrkdwn: str) -> str:
    """mrkdwn on one line, for a preview shown as a quote: quote markers and line breaks go
    (a `>` left in mid-line would be a bare `>`)."""
    return " ".join(line.lstrip(">").strip() for line in mrkdwn.splitlines() if line.strip())


def learned_item(learned: Learned) -> list[Block]:
    """A learned wording as managers see it: who taught it and when, how often it was
    confirmed, the Not helpful votes on answers it gave, and Confirm / Remove."""
    facts = [f"taught by {mention(learned.taught_by)} {when(learned.taught_at)}"]
    if learned.confirmed_by:
        facts.append(f"confirmed by {mention(learned.confirmed_by)}")
    facts.append(
        f"confirmed {plural(learned.confirmations, 'time')}"
        if learned.confirmations
        else "not confirmed yet"
    )
    if learned.not_helpful:
        facts.append(f"👎 {plural(learned.not_helpful, 'Not helpful vote')} on answers it gave")
    if learned.removed_at is not None:
        who = f" by {mention(learned.removed_by)}" if learned.removed_by else ""
        facts.append(f"removed{who} {when(learned.removed_at)}")
        return [context(f"Learned “{escape(learned.wording)}” · " + " · ".join(facts))]
    reach = "answers everyone" if learned.shared else "answers only who taught it"
    blocks: list[Block] = [
        context(f"Learned “{escape(learned.wording)}” · {reach} · " + " · ".join(facts))
    ]
    choices = [button("Remove wording", REMOVE_LEARNED, learned.id, style="danger")]
    if not learned.confirmed_by:
        choices.insert(0, button("Confirm wording", CONFIRM_LEARNED, learned.id))
    blocks.append(ActionsBlock(elements=choices))
    return blocks


def learned_blocks(taught: Sequence[Learned], *, room: int) -> list[Block]:
    """The learned wordings' blocks, as many as fit in `room` blocks (a view holds at most
    100; an entry may have learned many), the others counted in a last line."""
    blocks: list[Block] = []
    for shown, learned in enumerate(taught):
        item = learned_item(learned)
        if len(blocks) + len(item) > room - 1 and shown < len(taught) - 1:
            blocks.append(context(f"…and {plural(len(taught) - shown, 'more learned wording')}"))
            break
        blocks += item
    return blocks


def learned_section(runtime: Runtime, slug: str, *, room: int) -> list[Block]:
    """An entry's learned wordings for a manager's View and Edit, in the `room` blocks left
    in the modal (none: nothing)."""
    taught = review.learned_wordings(runtime, slug)
    if not taught or room < 3:
        return []
    heading = section(f"*Learned wordings* ({len(taught)})")
    return [heading, *learned_blocks(taught, room=room - 1)]


def entry_actions(slug: str, *extra: Any) -> ActionsBlock:
    """View and Edit (and `extra`) for an entry. No block_id: the same entry can be both
    flagged and overdue on one page of the queue, and Slack refuses a repeated block_id."""
    return ActionsBlock(
        elements=[button("View", VIEW_ENTRY, slug), button("Edit", EDIT_ENTRY, slug), *extra],
    )


def gap_item(gap: Gap) -> SectionBlock:
    others = [w for w in gap.wordings if w != gap.wording][:2]
    also = "\n_also: " + " · ".join(f"“{escape(shorten(w, 80))}”" for w in others) + "_"
    why = []
    if gap.unanswered:
        why.append(f"{gap.unanswered} unanswered")
    if gap.not_helpful:
        why.append(f"{gap.not_helpful} not helpful")
    return SectionBlock(
        text=(
            f"*“{escape(shorten(gap.wording, 150))}”* · asked {gap.asked}× by {gap.askers} "
            f"{'person' if gap.askers == 1 else 'people'} ({', '.join(why)}) · last "
            f"{when(gap.last_asked)}{also if others else ''}"
        ),
        accessory=button("Write entry", WRITE_GAP, gap.id, "primary"),
    )


# --- a draft's card, and the entry form ----------------------------------------------------


def draft_topic(runtime: Runtime, draft: Draft) -> str:
    """A draft's topic as people know it (its name, not the key of networks.yml)."""
    found = networks.topic(runtime, draft.topic) if draft.topic else None
    if found is not None:
        return escape(found.name)
    return escape(draft.topic) if draft.topic else "none"


def draft_card(runtime: Runtime, draft: Draft, note: str | None = None) -> dict[str, Any]:
    """A drafted entry as its reviewers see it."""
    blocks: list[Block] = [
        section(f"*A new knowledge entry for review*, proposed by {mention(draft.proposed_by)}"),
        section(f"*{escape(draft.title)}*"),
        *sections(markdown_to_slack(draft.body)),
    ]
    facts = [f"Topic: {draft_topic(runtime, draft)}"]
    if draft.questions:
        facts.append("Also asked as: " + "; ".join(f"“{escape(q)}”" for q in draft.questions))
    blocks.append(context(*facts))
    if note:
        blocks.append(context(note))
    elif draft.status == "pending":
        blocks.append(
            ActionsBlock(
                elements=[
                    button("Approve", APPROVE, draft.id, "primary"),
                    button("Edit", EDIT, draft.id),
                    button("Reject", REJECT, draft.id, "danger"),
                ]
            )
        )
    text = f"A new knowledge entry for review: {escape(draft.title)}"
    return {"text": text, "blocks": as_dicts(blocks)}


def send_for_review(runtime: Runtime, client: WebClient, user: str, draft: Draft) -> None:
    """DM the draft to its reviewers, and thank who proposed it."""
    reviewers = review.reviewers(runtime, draft)
    cards = [dm(client, reviewer, draft_card(runtime, draft)) for reviewer in reviewers]
    sent = [card for card in cards if card is not None]
    networks.record_action_posts(runtime, networks.REVIEW_CARD, draft.id, sent)
    who = [mention(reviewer) if reviewer != user else "you" for reviewer in reviewers]
    queue = f"the review queue for {', '.join(who) or 'a community manager'}"
    dm(
        client,
        user,
        {
            "text": (
                f"Thanks! “{escape(draft.title)}” is in {queue}. I'll tell you when it's in "
                "the knowledge index."
            )
        },
    )


def entry_form(
    title: str, body: str, topic: str | None, wordings: list[str], known: list[Topic]
) -> list[Block]:
    return [
        text_input(TITLE_BLOCK, "Title", initial=shorten(title, TITLE_LIMIT), limit=TITLE_LIMIT),
        text_input(
            BODY_BLOCK, "Answer (Markdown)", initial=body, multiline=True, limit=FORM_TEXT_LIMIT
        ),
        *([topic_select(known, topic, optional=True, suggested=False)] if known else []),
        text_input(
            WORDINGS_BLOCK,
            "Other ways people ask it (one per line)",
            initial="\n".join(wordings),
            multiline=True,
            limit=FORM_TEXT_LIMIT,
            optional=True,
        ),
        context("A reviewer approves it before it answers anyone."),
    ]


def entry_values(runtime: Runtime, view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's fields (typed text), and the errors to show (empty when it can be saved):
    every limit is checked here, on what was typed, whatever the form itself allowed."""
    title, body, topic = (
        modal_value(view, block) for block in (TITLE_BLOCK, BODY_BLOCK, TOPIC_BLOCK)
    )
    listed = modal_value(view, WORDINGS_BLOCK)
    wordings = [line.strip() for line in listed.splitlines() if line.strip()]
    errors = {}
    if not title:
        errors[TITLE_BLOCK] = "Give the entry a title."
    elif len(title) > TITLE_LIMIT:
        errors[TITLE_BLOCK] = too_long(title, TITLE_LIMIT)
    if not body:
        errors[BODY_BLOCK] = "Write the answer."
    elif len(body) > FORM_TEXT_LIMIT:
        errors[BODY_BLOCK] = too_long(body, FORM_TEXT_LIMIT)
    if len(listed) > FORM_TEXT_LIMIT:
        errors[WORDINGS_BLOCK] = too_long(listed, FORM_TEXT_LIMIT)
    elif any(len(wording) > MAX_TEXT for wording in wordings):
        errors[WORDINGS_BLOCK] = f"One way of asking takes at most {MAX_TEXT:,} characters."
    if topic and networks.topic(runtime, topic) is None:
        errors[TOPIC_BLOCK] = "Choose a topic from the list."
    return {
        "title": title,
        "body": body,
        "topic": topic or None,
        "questions": wordings[:20],
    }, errors


# --- a resolved answer, saved --------------------------------------------------------------


def save_answer(
    runtime: Runtime, body: dict[str, Any], respond: Respond, client: WebClient, routed: Routed
) -> None:
    """Open the form that drafts a resolved answer into an entry (the networks' "Save to
    knowledge index", once they have checked who may save it), unless it is drafted already."""
    earlier = review.pending_draft(runtime, routed.id)
    if earlier is not None:
        state = (
            f"is in the knowledge index as *{escape(earlier.title)}*"
            if earlier.status == "approved"
            else "is already waiting for review"
        )
        answer_presser(runtime, body, respond, f"This answer {state}.")
        return
    asked = routed.question
    view = View(
        type="modal",
        callback_id=SAVE_MODAL,
        title="Save to knowledge index",
        submit="Send for review",
        close="Cancel",
        private_metadata=str(routed.id),
        blocks=entry_form(
            asked,
            routed.answer or "",
            routed.topic.key,
            [asked],
            networks.topics(runtime),
        ),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_save_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = body["user"]["id"]
    fields, errors = entry_values(runtime, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    outcome, draft = review.propose(
        runtime,
        routed_id=row_id(metadata_text(view)) or 0,
        user_id=user,
        title=fields["title"],
        body=fields["body"],
        topic_key=fields["topic"],
        questions=fields["questions"],
    )
    if outcome is not Outcome.DONE or draft is None:
        message = {
            Outcome.ALREADY: "This answer is already waiting for review.",
            Outcome.NOT_ALLOWED: (NOT_A_SAVER),
        }.get(outcome, QUESTION_GONE)
        ack(response_action="errors", errors={TITLE_BLOCK: message})
        return
    ack()
    send_for_review(runtime, client, user, draft)
    if draft.routed_id is not None:
        runtime.notify(AnswerDraftChanged(draft.routed_id))


# --- Save to Eddy ----------------------------------------------------------------------------


def on_save_message(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Anyone may propose a message they can see (with its thread) as an entry; a reviewer
    decides. What the form quotes, whose it is and its link come from Slack, never from the
    request: a request naming a message in a conversation its sender is not in is refused."""
    ack()
    user = presser(body)
    channel = str((body.get("channel") or {}).get("id") or "")
    given = body.get("message")
    message: dict[str, Any] = given if isinstance(given, dict) else {}
    ts = str(body.get("message_ts") or message.get("ts") or "")
    outcome, found = saved_message(client, user, channel, ts)
    if outcome is Outcome.NOT_ALLOWED:
        log.warning("Refused to save a message in %s for %s, who is not in it", channel, user)
        refusal = "Sorry, you can only save messages from conversations you're in."
        answer_presser(runtime, body, respond, refusal)
        return
    if found is None:  # Eddy cannot read it: the words the person sent, as their proposal
        found = Quoted(str(message.get("text") or ""), None, None)
    first_line = typed(next((line for line in found.text.splitlines() if line.strip()), "")).strip()
    facts = {"author": found.author, "link": found.link}
    metadata = seal(runtime.settings.slack_signing_secret, user, facts)
    if len(metadata) > PRIVATE_METADATA_LIMIT:
        metadata = seal(runtime.settings.slack_signing_secret, user, {"author": found.author})
    blocks = entry_form(
        first_line, slack_to_markdown(found.text), None, [], networks.topics(runtime)
    )
    origin = f"Saving a message by {mention(found.author)}" if found.author else "Saving a message"
    if outcome is Outcome.GONE:
        origin += " (I can't read it in Slack: invite @Eddy to the channel to include its thread)"
    blocks.insert(0, context(origin))
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal",
            callback_id=SUGGEST_MODAL,
            title="Save to Eddy",
            submit="Send for review",
            close="Cancel",
            private_metadata=metadata,
            blocks=blocks,
        ),
    )


@dataclass(frozen=True)
class Quoted:
    """A message to save as Slack has it: its text (with its thread's replies), its author
    (a person; None for a bot's or an integration's), and a link to it."""

    text: str
    author: str | None
    link: str | None


def saved_message(
    client: WebClient, user: str, channel: str, ts: str
) -> tuple[Outcome, Quoted | None]:
    """The message at (channel, ts) and its thread, read from Slack if `user` is in that
    conversation (or it is public): DONE with it; NOT_ALLOWED when they are not; GONE when
    Eddy cannot read it (not in the channel) or Slack knows no such message."""
    try:
        public, members = conversation_members(client, channel)
    except SlackApiError:
        return Outcome.GONE, None
    if not review.may_quote(user, public=public, members=members):
        return Outcome.NOT_ALLOWED, None
    try:
        replies = client.conversations_replies(channel=channel, ts=ts, limit=50)
    except SlackApiError:
        log.info("Could not read a message saved in %s", channel)
        return Outcome.GONE, None
    messages = [m for m in replies.get("messages") or [] if isinstance(m, dict)]
    saved = next((m for m in messages if m.get("ts") == ts), None)
    if saved is None:
        return Outcome.GONE, None
    lines = [str(saved.get("text") or "")]
    for reply in messages:  # its thread's replies, when it starts one
        if reply is not saved and reply.get("thread_ts") == ts:
            who = f"<@{reply['user']}>" if reply.get("user") else "someone"
            lines.append(f"{who}: {reply.get('text') or ''}")
    author = str(saved["user"]) if saved.get("user") and not saved.get("bot_id") else None
    link = None
    try:
        link = str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError:
        log.info("No permalink for a message saved in %s", channel)
    return Outcome.DONE, Quoted("\n\n".join(lines), author, link)


def conversation_members(client: WebClient, channel: str) -> tuple[bool, set[str]]:
    """(whether the conversation is public, its members when it is not), as Slack says."""
    info = client.conversations_info(channel=channel)["channel"]
    if info.get("is_im"):
        return False, {str(info.get("user") or "")}
    if not (info.get("is_private") or info.get("is_mpim") or info.get("is_group")):
        return True, set()
    members: set[str] = set()
    cursor: str | None = None
    while True:
        page = client.conversations_members(channel=channel, cursor=cursor, limit=1000)
        members |= {str(member) for member in page.get("members") or []}
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return False, members


def on_suggestion_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    fields, errors = entry_values(runtime, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    origin = unseal(runtime.settings.slack_signing_secret, user, metadata_text(view))
    if origin is None:
        log.warning("Refused a saved message from %s: its form was not one Eddy opened", user)
        ack(response_action="errors", errors={TITLE_BLOCK: FORM_NOT_OURS})
        return
    ack()
    author, link = origin.get("author"), origin.get("link")
    draft = review.suggest(
        runtime,
        user_id=user,
        author=author if isinstance(author, str) and USER_ID.fullmatch(author) else None,
        title=fields["title"],
        body=fields["body"],
        topic_key=fields["topic"],
        questions=fields["questions"],
        source_url=link if is_link(link) else None,
    )
    send_for_review(runtime, client, user, draft)


# --- drafts: approve, reject, edit, view -------------------------------------------------------


def on_approve_import(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """Approve all: every page an import left waiting answers at once."""
    ack()
    user, source = presser(body), action_value(body)
    approved, refused = review.approve_batch(runtime, source=source, reviewer=user)
    if not approved and not refused:
        text = "Nothing from that import waits for review any more."
    elif not approved:
        text = "Only the managers of those pages' topics, or community managers, can approve them."
    else:
        text = f"Approved {plural(approved, 'imported page')}: they answer now."
        if refused:
            text += f" {refused} more need their topic's managers."
    answer_presser(runtime, body, respond, text)


def on_approve(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, draft_id = pressed_id(body)
    outcome, draft = review.review(runtime, draft_id=draft_id or 0, reviewer=user, approve=True)
    reviewed(runtime, body, respond, client, user, outcome, draft)


def reviewed(
    runtime: Runtime,
    body: dict[str, Any],
    respond: Respond | None,
    client: WebClient,
    reviewer: str,
    outcome: Outcome,
    draft: Draft | None,
) -> None:
    """Tell the reviewer what became of their decision, and the authors what was decided."""
    if outcome is Outcome.NOT_ALLOWED:
        answer_presser(runtime, body, respond, NOT_A_REVIEWER)
        return
    if draft is None:
        answer_presser(runtime, body, respond, "That draft no longer exists.")
        return
    if outcome is Outcome.ALREADY:
        already = (
            f"{mention(draft.reviewed_by)} has already reviewed “{escape(draft.title)}”: "
            f"{draft.status}."
        )
        if can_respond(respond) and from_message(body):  # a copy Eddy did not track: redraw it
            assert respond is not None
            respond(replace_original=True, **draft_card(runtime, draft, already))
        else:
            answer_presser(runtime, body, respond, already)
        return
    if draft.status == "approved":
        note = (
            f"Approved by {mention(reviewer)}: it's in the knowledge index and answers "
            "questions now."
        )
    else:
        note = f"Rejected by {mention(reviewer)}.{reason_of(draft)}"
    redraw_cards(runtime, client, draft, note)
    if can_respond(respond) and from_message(body):
        assert respond is not None
        respond(replace_original=True, **draft_card(runtime, draft, note))
    else:
        title = f"“{escape(draft.title)}”"
        answer_presser(
            runtime,
            body,
            None,
            f"Approved {title}: it's in the knowledge index and answers questions now."
            if draft.status == "approved"
            else f"Rejected {title}.{reason_of(draft)}",
        )
    tell_authors(client, draft, reviewer)
    if draft.routed_id is not None:
        # Its question's posts offered to save it: they say what became of it.
        runtime.notify(AnswerDraftChanged(draft.routed_id))


def reason_of(draft: Draft) -> str:
    """A rejection's reason, the reviewer's words quoted, after the sentence it explains."""
    return f" Reason: “{escape(draft.decision_note)}”" if draft.decision_note else ""


def redraw_cards(runtime: Runtime, client: WebClient, draft: Draft, note: str) -> None:
    """Every reviewer's copy of the draft's card, redrawn with the decision and without its
    buttons: whoever decided, nobody is left with an Approve that can only say "already"."""
    for card in networks.action_posts(runtime, networks.REVIEW_CARD, draft.id, forget=True):
        try:
            client.chat_update(channel=card.channel, ts=card.ts, **draft_card(runtime, draft, note))
        except SlackApiError as error:
            log.info("Could not redraw a review card of draft %s: %s", draft.id, error)


def from_message(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "message"


def tell_authors(client: WebClient, draft: Draft, reviewer: str) -> None:
    """Tell who proposed the entry, and whose answer it is, what the reviewer decided."""
    if draft.status == "approved":
        told = (
            f"Your entry *{escape(draft.title)}* was approved by {mention(reviewer)} and is "
            "now in the knowledge index. Thank you!"
        )
    else:
        reason = f" Their reason: “{escape(draft.decision_note)}”" if draft.decision_note else ""
        told = (
            f"Your entry *{escape(draft.title)}* was not added to the knowledge index "
            f"({mention(reviewer)} reviewed it).{reason}"
        )
    for person in {draft.proposed_by, draft.owner} - {reviewer, None}:
        dm(client, str(person), {"text": told})


def pending_for(
    runtime: Runtime, body: dict[str, Any], respond: Respond | None, user: str, draft_id: int
) -> Draft | None:
    """The pending draft a reviewer wants to act on, or None (they have been told why)."""
    outcome, draft = review.draft_to_review(runtime, draft_id=draft_id, reviewer=user)
    if outcome is Outcome.DONE and draft is not None:
        return draft
    text = {
        Outcome.NOT_ALLOWED: NOT_A_REVIEWER,
        Outcome.ALREADY: "That draft has already been reviewed.",
    }.get(outcome, "That draft no longer exists.")
    answer_presser(runtime, body, respond, text)
    return None


def card_metadata(body: dict[str, Any], draft_id: int) -> str:
    """Which draft a modal is about, and the DM card to redraw when it is submitted."""
    container = body.get("container") or {}
    card = (
        {"channel": container.get("channel_id"), "ts": container.get("message_ts")}
        if from_message(body)
        else {}
    )
    return json.dumps({"draft": draft_id, **card})


def on_reject(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    """Rejecting asks for a reason first: the author is told it."""
    ack()
    user, draft_id = pressed_id(body)
    draft = pending_for(runtime, body, respond, user, draft_id or 0)
    if draft is None:
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal",
            callback_id=REJECT_MODAL,
            title="Reject entry",
            submit="Reject",
            close="Cancel",
            private_metadata=card_metadata(body, draft.id),
            blocks=[
                section(f"*{escape(draft.title)}*, proposed by {mention(draft.proposed_by)}"),
                text_input(
                    REASON_BLOCK,
                    "Why? (the author is told)",
                    multiline=True,
                    limit=review.REASON_LIMIT,
                ),
            ],
        ),
    )


def on_reject_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    about = modal_metadata(view)
    reason = typed_input(entered(view, REASON_BLOCK, "value").get("value")).strip()
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: "Say why, so the author can learn."})
        return
    if len(reason) > review.REASON_LIMIT:
        ack(
            response_action="errors",
            errors={REASON_BLOCK: too_long(reason, review.REASON_LIMIT)},
        )
        return
    outcome, draft = review.review(
        runtime,
        draft_id=row_id(about.get("draft")) or 0,
        reviewer=user,
        approve=False,
        reason=reason,
    )
    if outcome is Outcome.NOT_ALLOWED:
        ack(response_action="errors", errors={REASON_BLOCK: NOT_A_REVIEWER})
        return
    ack()
    decided(runtime, client, body, about, user, outcome, draft)


def decided(
    runtime: Runtime,
    client: WebClient,
    body: dict[str, Any],
    about: dict[str, Any],
    reviewer: str,
    outcome: Outcome,
    draft: Draft | None,
) -> None:
    """After a decision made in a modal: redraw the DM card it came from (only ever in the
    reviewer's own DM with Eddy, where Eddy sent it), tell everyone."""
    card = about.get("channel"), about.get("ts")
    if outcome is Outcome.DONE and draft is not None and own_dm(client, reviewer, *card):
        note = (
            f"Approved by {mention(reviewer)}: it's in the knowledge index."
            if draft.status == "approved"
            else f"Rejected by {mention(reviewer)}.{reason_of(draft)}"
        )
        try:
            client.chat_update(
                channel=about["channel"], ts=about["ts"], **draft_card(runtime, draft, note)
            )
        except SlackApiError:
            log.info("Could not redraw the review card of draft %s", draft.id)
    reviewed(runtime, body, None, client, reviewer, outcome, draft)


def own_dm(client: WebClient, user: str, channel: object, ts: object) -> bool:
    """Whether (channel, ts) can be a message in `user`'s DM with Eddy: a modal's metadata
    names the card to redraw, and is not to be trusted with anyone else's messages."""
    if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
        return False
    try:
        mine = client.conversations_open(users=user)["channel"]["id"]
    except SlackApiError:
        return False
    if mine != channel:
        log.warning("Refused to redraw a message in %s for %s: not their DM", channel, user)
        return False
    return True


def modal_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(metadata_text(view) or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def on_edit_draft(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, draft_id = pressed_id(body)
    draft = pending_for(runtime, body, respond, user, draft_id or 0)
    if draft is None:
        return
    view = View(
        type="modal",
        callback_id=EDIT_MODAL,
        title="Review entry",
        submit="Approve",
        close="Cancel",
        private_metadata=card_metadata(body, draft.id),
        blocks=entry_form(
            draft.title, draft.body, draft.topic, list(draft.questions), networks.topics(runtime)
        ),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_edit_draft_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    """The reviewer's edits, approved: the entry answers questions as soon as this returns."""
    user = presser(body)
    fields, errors = entry_values(runtime, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    about = modal_metadata(view)
    outcome, draft = review.review(
        runtime,
        draft_id=row_id(about.get("draft")) or 0,
        reviewer=user,
        approve=True,
        edits=fields,
    )
    if outcome is Outcome.NOT_ALLOWED or draft is None:
        text = NOT_A_REVIEWER if outcome is Outcome.NOT_ALLOWED else "That draft no longer exists."
        ack(response_action="errors", errors={TITLE_BLOCK: text})
        return
    ack()
    decided(runtime, client, body, about, user, outcome, draft)


def on_view_draft(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, draft_id = pressed_id(body)
    draft = pending_for(runtime, body, None, user, draft_id or 0)
    if draft is None:
        return
    facts = [f"Proposed by {mention(draft.proposed_by)}", f"Topic: {draft_topic(runtime, draft)}"]
    if draft.source_url:
        facts.append(link(draft.source_url, "The message it came from"))
    blocks: list[Block] = [
        section(f"*{escape(draft.title)}*"),
        *sections(markdown_to_slack(draft.body)),
    ]
    if draft.questions:
        blocks.append(
            context("Also asked as: " + "; ".join(f"“{escape(q)}”" for q in draft.questions))
        )
    blocks.append(context(*facts))
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal", title="Draft entry", close="Close", blocks=blocks[:BLOCKS_PER_MODAL]
        ),
    )


# --- live entries ----------------------------------------------------------------------------


def on_view_entry(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    entry = runtime.catalogue.get(action_value(body))
    if entry is None:
        answer_presser(runtime, body, None, "That entry is no longer in the knowledge index.")
        return
    blocks = entry_blocks(entry, people.name_of(runtime, client, entry.owner))
    if entry.path is not None:
        blocks.append(context(f"From the content file `{content_file(runtime, entry)}`"))
    if runtime.is_manager(presser(body)):
        blocks.extend(learned_section(runtime, entry.slug, room=VIEW_BLOCKS - len(blocks)))
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal", title="Knowledge entry", close="Close", blocks=blocks[:BLOCKS_PER_MODAL]
        ),
    )


def on_edit_entry(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, runtime: Runtime
) -> None:
    ack()
    user, slug = presser(body), action_value(body)
    outcome, entry = review.editable(runtime, slug=slug, editor=user)
    if outcome is Outcome.NOT_ALLOWED:
        answer_presser(runtime, body, respond, NOT_AN_EDITOR)
        return
    if entry is None:
        answer_presser(runtime, body, respond, "That entry is no longer in the knowledge index.")
        return
    blocks = entry_form(
        entry.title, entry.body, entry.topic, list(entry.questions), networks.topics(runtime)
    )
    blocks[-1] = context("Saved, it answers questions at once and counts as reviewed today.")
    if entry.path is not None:
        blocks.append(
            context(
                f"This entry comes from the content file `{content_file(runtime, entry)}`. Your "
                "edit serves until that file changes; copy it into the file to keep it for good."
            )
        )
    if runtime.is_manager(user):
        blocks.extend(learned_section(runtime, entry.slug, room=VIEW_BLOCKS - len(blocks)))
    open_form(client, body, ENTRY_MODAL, "Edit entry", "Save", slug, blocks)


def open_form(
    client: WebClient,
    body: dict[str, Any],
    callback_id: str,
    title: str,
    submit: str,
    metadata: str,
    blocks: list[Block],
) -> None:
    """Open an entry form (a live entry's edit, a gap's new entry) as a modal."""
    client.views_open(
        trigger_id=body["trigger_id"],
        view=View(
            type="modal",
            callback_id=callback_id,
            title=title,
            submit=submit,
            close="Cancel",
            private_metadata=metadata,
            blocks=blocks,
        ),
    )


def on_entry_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    fields, errors = entry_values(runtime, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    slug = metadata_text(view)
    outcome, entry = review.revise(runtime, slug=slug, editor=user, fields=fields)
    if outcome is not Outcome.DONE or entry is None:
        message = (
            NOT_AN_EDITOR
            if outcome is Outcome.NOT_ALLOWED
            else "That entry is no longer in the knowledge index."
        )
        ack(response_action="errors", errors={TITLE_BLOCK: message})
        return
    ack()
    answer_presser(runtime, body, None, f"Saved *{escape(entry.title)}*: it answers questions now.")


def on_confirm_learned(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    ack()
    user, learned_id = pressed_id(body)
    outcome = (
        review.confirm_wording(runtime, learned_id=learned_id, manager=user)
        if learned_id is not None
        else Outcome.GONE
    )
    text = {
        Outcome.DONE: "Confirmed: that wording now leads everyone to its entry.",
        Outcome.NOT_ALLOWED: NOT_A_MANAGER,
    }.get(outcome, "That wording was removed.")
    answer_presser(runtime, body, respond, text)
    runtime.catalogue.settle()  # the classifier takes the change in before the next press


def on_remove_learned(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    ack()
    user, learned_id = pressed_id(body)
    outcome = (
        review.remove_wording(runtime, learned_id=learned_id, manager=user)
        if learned_id is not None
        else Outcome.ALREADY
    )
    text = {
        Outcome.DONE: (
            "Removed: that wording leads nobody to the entry, and won't be learned again."
        ),
        Outcome.NOT_ALLOWED: NOT_A_MANAGER,
    }.get(outcome, "That wording was removed already.")
    answer_presser(runtime, body, respond, text)
    runtime.catalogue.settle()  # the classifier takes the change in before the next press


def on_looks_fine(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    ack()
    user, slug = presser(body), action_value(body)
    outcome = review.dismiss_flag(runtime, slug=slug, manager=user)
    text = {
        Outcome.DONE: "Cleared the flag: the entry stays as it is.",
        Outcome.ALREADY: "Someone has already looked at that flag.",
    }.get(outcome, NOT_A_MANAGER)
    answer_presser(runtime, body, respond, text)


def on_remove_gone(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    ack()
    user, slug = presser(body), action_value(body)
    entry = runtime.catalogue.get(slug)
    title = f"*{escape(entry.title)}*" if entry else "That entry"
    outcome = review.remove_gone(runtime, slug=slug, manager=user)
    text = {
        Outcome.DONE: f"Removed {title}: it no longer answers anyone.",
        Outcome.ALREADY: "Someone has already decided about that entry.",
    }.get(outcome, NOT_A_MANAGER)
    answer_presser(runtime, body, respond, text)


def on_still_true(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """ "Still true" from an owner's reminder, or "Mark reviewed" in the console."""
    ack()
    user, slug = presser(body), action_value(body)
    outcome = review.confirm(runtime, slug=slug, user_id=user)
    entry = runtime.catalogue.get(slug)
    title = f"*{escape(entry.title)}*" if entry else "That entry"
    text = {
        Outcome.DONE: f"Thanks! {title} counts as reviewed today.",
        Outcome.GONE: "That entry is no longer in the knowledge index.",
    }.get(outcome, "Only community managers and its owner can review an entry.")
    if outcome is Outcome.DONE and can_respond(respond) and from_message(body):
        assert respond is not None
        redrawn = without_entry_buttons(body, slug, f"Reviewed by {mention(user)} today.")
        if redrawn is not None:  # the reminder keeps no "Still true" that is already done
            respond(replace_original=True, **redrawn)
    answer_presser(runtime, body, respond, text)


def without_entry_buttons(body: dict[str, Any], slug: str, note: str) -> dict[str, Any] | None:
    """The pressed reminder as Slack sent it back, with the row of buttons of entry `slug`
    replaced by `note` (None when the payload carries no such message)."""
    message = body.get("message") or {}
    blocks = message.get("blocks")
    if not isinstance(blocks, list):
        return None
    redrawn = [
        context(note).to_dict()
        if block.get("type") == "actions"
        and any(
            element.get("action_id") == STILL_TRUE and element.get("value") == slug
            for element in block.get("elements") or []
        )
        else block
        for block in blocks
        if isinstance(block, dict)
    ]
    return {"text": str(message.get("text") or ""), "blocks": redrawn}


def content_file(runtime: Runtime, entry: KnowledgeEntry) -> str:
    """The entry's file as the people who keep the content folder name it."""
    path = entry.path or Path()
    folder = runtime.settings.eddy_content_dir
    shown = path.relative_to(folder) if path.is_relative_to(folder) else path
    return escape(str(shown))


# --- knowledge gaps ----------------------------------------------------------------------------


def on_write_gap(ack: Ack, body: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    ack()
    user, gap_id = pressed_id(body)
    if not review.may_write(runtime, user):
        answer_presser(runtime, body, None, NOT_A_MANAGER)
        return
    found = next(
        (gap for gap in gaps.gaps(runtime, now=runtime.clock.now()) if gap.id == gap_id), None
    )
    if found is None:
        answer_presser(runtime, body, None, "That gap has been closed already.")
        return
    wordings = list(found.wordings)
    blocks = entry_form(wordings[0], "", None, wordings, networks.topics(runtime))
    blocks[-1] = context(
        f"Asked {found.asked}× lately. Saved, it answers these questions at once and the gap "
        "closes."
    )
    open_form(client, body, GAP_MODAL, "Write the entry", "Publish", str(found.id), blocks)


def on_gap_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    user = presser(body)
    fields, errors = entry_values(runtime, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    outcome, entry = review.write_entry(
        runtime, author=user, fields=fields, gap_id=row_id(metadata_text(view))
    )
    if outcome is not Outcome.DONE or entry is None:
        ack(response_action="errors", errors={TITLE_BLOCK: NOT_A_MANAGER})
        return
    ack()
    answer_presser(
        runtime, body, None, f"Published *{escape(entry.title)}*: it answers questions now."
    )


# --- owners' reminders -----------------------------------------------------------------------


def remind(runtime: Runtime, client: WebClient, reminder: ReviewReminder) -> None:
    days = runtime.settings.eddy_review_after_days
    blocks: list[Block] = [
        section(
            f"Some knowledge entries you keep haven't been reviewed for {days} days. Are they "
            "still true? A tap tells me so; *Edit* fixes what changed."
        )
    ]
    for item in reminder.entries:
        last = (
            f"last reviewed {item.last_reviewed:%-d %b %Y}"
            if item.last_reviewed
            else "never reviewed"
        )
        blocks += [
            section(f"*{escape(item.entry.title)}* · {last}"),
            ActionsBlock(
                elements=[
                    button("Still true", STILL_TRUE, item.entry.slug, "primary"),
                    button("Edit", EDIT_ENTRY, item.entry.slug),
                    button("View", VIEW_ENTRY, item.entry.slug),
                ]
            ),
        ]
    if reminder.more:
        blocks.append(context(f"…and {reminder.more} more; a community manager can see them all."))
    count = len(reminder.entries) + reminder.more
    text = f"{plural(count, 'knowledge entry', 'knowledge entries')} of yours to review"
    dm(client, reminder.owner, {"text": text, "blocks": as_dicts(blocks)})
