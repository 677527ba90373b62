"""Block Kit pieces every capability uses: safe text, short notices, usage help.

Text that came from a person is passed through `escape()` before Eddy repeats it, so a question
containing `<!channel>` or `<@U…>` cannot ping anyone when Eddy echoes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

#: Slack's limit for the text of a section block.
SECTION_TEXT_LIMIT = 3000


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT_LIMIT)))


def context(*parts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=part) for part in parts])


def as_dicts(blocks: Sequence[Block]) -> list[dict]:
    return [block.to_dict() for block in blocks]


def notice(text: str, *, usage: Sequence[str] = ()) -> list[dict]:
    """A short explanation, followed by the usage lines when they help."""
    blocks: list[Block] = [section(text)]
    if usage:
        blocks.append(context(*usage))
    return as_dicts(blocks)
