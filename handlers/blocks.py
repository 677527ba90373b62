"""Block Kit pieces every capability uses: safe text, short notices, usage help.

Before Eddy repeats what a person wrote, the text goes through one of two doors, so that
`<!channel>` or `<@U…>` in a question can never ping anyone when Eddy echoes it:

- `neutralise()` for text from messages and slash commands. Slack delivers it already escaped
  (`&amp;`, `&lt;`, `&gt;`); what stands in angle brackets is markup Slack made from the
  person's `@channel`, `@sam` or `#general`, and it becomes plain, inert text.
- `escape()` for text from modal inputs, which Slack delivers raw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markdown_to_mrkdwn import SlackMarkdownConverter
from slack_bolt import Respond
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.people import FORMER_MEMBER, is_former_member
from bot.runtime import Runtime

#: Slack's limit for the text of a section block.
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
TREND_CELLS = "▁▂▃▄▅▆▇█"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


QUOTE_OR_GT = re.compile(r"(^[ \t]*)?>", re.MULTILINE)
_converter = SlackMarkdownConverter()
SLACK_MARKUP = re.compile(r"<([^<>]*)>")
BARE_AMPERSAND = re.compile(r"&(?!(amp|lt|gt);)")


def neutralise(text: str) -> str:
    """Slack-escaped text with its mentions, broadcasts and channel links made inert.

    `<@U1|sam>` → `@sam`, `<!here>` → `@here`, `<!subteam^S1|@design>` → `@design`,
    `<#C1|general>` → `#general`; web and mail links stay links (they ping nobody).
    """

    def inert(match: re.Match[str]) -> str:
        inside = match.group(1)
        target, _, label = inside.partition("|")
        if target.startswith(("@", "!")):
            name = label or target.removeprefix("@").removeprefix("!").split("^")[0]
            return name if name.startswith("@") else "@" + name
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith(("http://", "https://", "mailto:")):
            return match.group(0)
        return escape(match.group(0))

    return SLACK_MARKUP.sub(inert, BARE_AMPERSAND.sub("&amp;", text))


SLACK_LINK = re.compile(r"<((?:https?://|mailto:)[^<>|]*)(?:\|([^<>]*))?>")


def slack_to_markdown(text: str) -> str:
    """A message as a person wrote it in Slack, as Markdown for a knowledge entry: links
    become Markdown links, mentions and broadcasts inert text, escaping undone."""
    linked = SLACK_LINK.sub(
        lambda m: f"[{m.group(2)}]({m.group(1)})" if m.group(2) else m.group(1), text
    )
    plain = neutralise(linked)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention(user_id: str | None) -> str:
    """A stored user ID as people read it: a mention; "former member" for someone Eddy was
    asked to forget (their ID is a pseudonym now, which would show as a broken mention);
    "someone" when nobody is known."""
    if not user_id:
        return "someone"
    if is_former_member(user_id):
        return FORMER_MEMBER
    return f"<@{user_id}>"


def shorten(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def searchable(text: str) -> str:
    """What a person asked, without Slack's markup: mentions and broadcasts dropped, channel
    and link labels kept, escaping undone. (Search should not find "channel" in `@channel`.)"""

    def label(match: re.Match[str]) -> str:
        target, _, name = match.group(1).partition("|")
        if target.startswith(("@", "!")):
            return " "
        if target.startswith("#"):
            return " " + (name or "") + " "
        return " " + (name or target) + " "

    plain = SLACK_MARKUP.sub(label, text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.split())


def markdown_to_slack(markdown: str) -> str:
    """An entry's Markdown as Slack mrkdwn (markdown_to_mrkdwn does the conversion).

    `&`, `<` and `>` are escaped first (a `>` opening a quote line stays), so nothing in an
    entry can become a mention or a broadcast."""
    escaped = markdown.replace("&", "&amp;").replace("<", "&lt;")
    escaped = QUOTE_OR_GT.sub(lambda m: ">" if m.group(1) is not None else "&gt;", escaped)
    return _converter.convert(escaped)


def sections(text: str) -> list[SectionBlock]:
    """Long text as several section blocks, split between paragraphs where possible."""
    blocks: list[SectionBlock] = []
    while text:
        if len(text) <= SECTION_TEXT_LIMIT:
            cut = len(text)
        else:
            cut = text.rfind("\n\n", 0, SECTION_TEXT_LIMIT)
            cut = cut if cut > 0 else text.rfind("\n", 0, SECTION_TEXT_LIMIT)
            cut = cut if cut > 0 else SECTION_TEXT_LIMIT
        blocks.append(section(text[:cut].strip()))
        text = text[cut:].strip()
    return blocks


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT_LIMIT)))


def context(*parts: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=shorten(part, SECTION_TEXT_LIMIT)) for part in parts]
    )


def as_dicts(blocks: Sequence[Block]) -> list[dict]:
    return [block.to_dict() for block in blocks]


def notice(text: str, *, usage: Sequence[str] = ()) -> list[dict]:
    """A short explanation, followed by the usage lines when they help."""
    blocks: list[Block] = [section(text)]
    if usage:
        blocks.append(context(*usage))
    return as_dicts(blocks)


def when(moment: datetime) -> str:
    """A time each reader sees in their own time zone (Slack formats it)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def button(label: str, action: str, value: int | str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=shorten(label, BUTTON_TEXT_LIMIT), action_id=action, value=str(value), style=style
    )


def numbered(action: str, index: int) -> str:
    """The action_id of the `index`-th of several buttons that do the same thing in one
    actions block: Slack refuses a message or view whose block repeats an action_id, so each
    gets its own (`home_tab_0`, `home_tab_1`, …) and one listener takes them all (`family`)."""
    return f"{action}_{index}"


def family(action: str) -> re.Pattern[str]:
    """The listener constraint for `action` and every `numbered` action_id made from it."""
    return re.compile(rf"^{re.escape(action)}(?:_\d+)?$")


def meter(done: int, total: int, *, width: int | None = None) -> str:
    """A compact progress bar, ▰▰▰▱▱: one cell per step, or `width` cells scaled."""
    cells = total if width is None else width
    filled = min(cells, done if width is None else round(cells * done / max(total, 1)))
    return "▰" * filled + "▱" * (cells - filled)


def duration(span: timedelta) -> str:
    """A span of time in words a person reads at a glance: 25 min, 3 h 10 min, 4 days."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def trend(values: Sequence[float | None]) -> str:
    """A text sparkline, ▁▃▅█, one cell per value scaled to the largest; a gap (no data) is
    a thin dot."""
    known = [value for value in values if value is not None]
    top = max(known, default=0.0)
    cells = []
    for value in values:
        if value is None:
            cells.append("·")
        elif top <= 0:
            cells.append(TREND_CELLS[0])
        else:
            cells.append(TREND_CELLS[round(value / top * (len(TREND_CELLS) - 1))])
    return "".join(cells)


@dataclass(frozen=True)
class HomeNotice:
    """Something to tell `user` on their Home tab, where a pressed button has no thread to
    answer in: the Home capability redraws the tab with `text` on top."""

    user: str
    text: str


def tell(runtime: Runtime, body: dict[str, Any], respond: Respond | None, text: str) -> None:
    """Answer whoever acted: under the message they pressed a button on, else (a button on
    the Home tab, a modal's submission) on their Home tab, where there is no thread."""
    if respond is not None and (body.get("container") or {}).get("type") == "message":
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        runtime.notify(HomeNotice(body["user"]["id"], text))
