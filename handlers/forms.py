"""Modal inputs the networks' and the review queue's forms share: a text input that never
cuts text unseen, the topic picker, what a person entered in a submitted modal, and the
error for text past its limit.

    blocks = [text_input(ANSWER_BLOCK, "Your answer", multiline=True, limit=3000)]
    answer = modal_value(view, ANSWER_BLOCK)   # typed text, stripped
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from bot.content.networks import Topic
from handlers.blocks import shorten, typed_input
from handlers.slash import MAX_TEXT
from handlers.values import entered

#: The action_id of the inputs made here (each block has one input).
VALUE = "value"
#: The topic picker's block (its "experts_" id from when only the networks' forms had one).
TOPIC_BLOCK = "experts_topic"


def modal_value(view: dict[str, Any], block: str) -> str:
    """What the person entered in `block` of a submitted modal, as typed text."""
    element = entered(view, block, VALUE)
    if element.get("type") == "static_select":
        return typed_input((element.get("selected_option") or {}).get("value"))
    return typed_input(element.get("value")).strip()


def text_input(
    block: str,
    label: str,
    *,
    initial: str = "",
    multiline: bool = False,
    limit: int = MAX_TEXT,
    optional: bool = False,
) -> InputBlock:
    """A text input. Prefilled text longer than Slack lets the input hold (a long thread saved
    to the index, say) is shortened between words, and the hint says so: nothing is cut
    without the person seeing it."""
    hint = None
    if len(initial) > limit:
        initial = shorten(initial, limit)
        hint = f"Shortened to fit: this takes at most {limit:,} characters."
    return InputBlock(
        block_id=block,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=VALUE,
            initial_value=initial or None,
            multiline=multiline,
            max_length=limit,
        ),
    )


def topic_select(
    known: list[Topic] | tuple[Topic, ...],
    chosen: str | None,
    *,
    optional: bool = False,
    suggested: bool = True,
) -> InputBlock:
    """The topic picker; `suggested` says the preselected topic was guessed from the question
    (the /ask form), not chosen before (an Edit form, whose hint must not claim a guess)."""
    options = [Option(value=t.key, label=shorten(t.name, 75)) for t in known[:100]]
    initial = next((option for option in options if option.value == chosen), None)
    return InputBlock(
        block_id=TOPIC_BLOCK,
        label="Topic",
        optional=optional,
        hint="Suggested from your question; change it if it's about something else."
        if initial and suggested
        else None,
        element=StaticSelectElement(
            action_id=VALUE, options=options, initial_option=initial, placeholder="Choose a topic"
        ),
    )


def channel_select(block_id: str, *, hint: str | None = None) -> InputBlock:
    """A channel to choose (public or private; the block's id is its element's too)."""
    return InputBlock(
        block_id=block_id,
        label="Channel",
        hint=hint,
        element=ConversationSelectElement(
            action_id=block_id,
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
        ),
    )


def whole_number(
    block_id: str, label: str, allowed: range, initial: int, *, hint: str | None = None
) -> InputBlock:
    """A whole number within `allowed` (Slack checks the bounds; so do the handlers)."""
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=hint,
        element=NumberInputElement(
            action_id=block_id,
            is_decimal_allowed=False,
            min_value=str(allowed.start),
            max_value=str(allowed.stop - 1),
            initial_value=str(initial),
        ),
    )


def too_long(text: str, limit: int) -> str:
    """A modal's error for text past its limit (plain text, counted as typed)."""
    return f"That's {len(text):,} characters; this takes at most {limit:,}. Shorten it a little."
