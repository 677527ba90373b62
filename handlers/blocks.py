"""Block Kit pieces every capability uses, and the one statement of how text is kept and shown.

Text takes exactly one of three forms at each layer:

1. **Typed text** — what a person wrote, as they would read it: `&`, `<` and `>` as
   themselves, no Slack markup, no control characters (tab and newline stay; a carriage
   return becomes a newline). bot/ receives and returns typed text, store/ keeps it, and
   column limits count it. Handlers make it at the door, before anything else sees it:
   - `typed()` for message and slash-command text, which Slack delivers escaped (`&amp;`,
     `&lt;`, `&gt;`) and with markup for what the person linked: `<@U1|sam>` becomes `@U1`
     (the ID, as message events carry it: it outlives a change of name, and `forget user`
     finds and erases it), `<!here>` `@here`, `<#C1|general>` `#general`,
     `<https://x.dev|the docs>` `the docs (https://x.dev)` (the target stays in view, so a
     link cannot hide where it goes) — plain, inert text however nested or malformed;
   - `typed_input()` for modal inputs and other values Slack delivers raw.
   store/ cleans every string it writes once more (store/text.py), so no other path (content
   files, the CLI) brings a control character into the database either.
2. **mrkdwn** — every mrkdwn text object and every `text` fallback Eddy sends. Typed text and
   content (titles, names, descriptions) go through `escape()` exactly once, where Eddy
   composes them into its sentence; an entry's Markdown goes through `markdown_to_slack()`.
   Eddy's own markup — `*bold*`, `mention()`, `<#C…>`, `when()`, `<url|label>` — is put
   around escaped text, never inside it. Typed text is shortened before it is escaped;
   `shorten()` and `sections()` also cut mrkdwn, and then only between words and never inside
   markup or an entity.
3. **plain_text** — button labels, headers, modal titles, options, placeholders, input values
   and a view's `errors`: typed text as it is, never escaped (Slack shows plain_text as sent,
   so `&amp;` there reads `&amp;`).

Nothing typed can ping anyone when Eddy repeats it: after `typed()` it holds no markup, and
`escape()` turns any `<` left into `&lt;`. The tests check every message and view Eddy sends
against these rules (sandbox/mrkdwn.py, applied in tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from markdown_to_mrkdwn import SlackMarkdownConverter
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.people import FORMER_MEMBER, is_former_member
from bot.text import clean_text

#: Slack's limit for the text of a section block.
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
TREND_CELLS = "▁▂▃▄▅▆▇█"

#: Markup in Slack text: whatever stands between `<` and `>` (innermost first when nested).
SLACK_MARKUP = re.compile(r"<([^<>]*)>")
#: A word that is a channel as Slack links it in a command's text (`<#C123|general>`).
CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
SLACK_LINK = re.compile(r"<((?:https?://|mailto:)[^<>|]*)(?:\|([^<>]*))?>")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
WEB_SCHEME = re.compile(r"^https?://")
#: A web address that can stand in link markup as it is (no space, `<`, `>` or `|` in it).
WEB_ADDRESS = re.compile(r"https?://[^\s<>|]+")
#: A Slack user ID (what a value round-tripped through a modal must look like to be one).
USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
QUOTE_OR_GT = re.compile(r"(^[ \t]*)?>", re.MULTILINE)
#: What a cut of mrkdwn keeps whole: markup, an entity, a run of whitespace, a run of other
#: characters (a word stops at `<` and `&`, so that markup and entities are atoms of their own).
ATOM = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt);|\s+|[^\s<&]+|.", re.DOTALL)
WORD = re.compile(r"[^\s<&]+")
CODE_FENCE = "```"
_converter = SlackMarkdownConverter()


def escape(text: str) -> str:
    """Typed text as mrkdwn: `&`, `<` and `>` escaped (once, so apply it once), control
    characters dropped."""
    return clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Typed text (a command line, say) as inline code in mrkdwn: `code("/ask <question>")`."""
    return f"`{escape(text)}`"


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<` and `>` in one pass (`&amp;lt;` reads `&lt;`)."""
    return ENTITY.sub(lambda match: ENTITIES[match[1]], text)


def typed_input(value: Any) -> str:
    """A value Slack delivers raw (a modal's input, a button's value) as typed text."""
    return clean_text("" if value is None else str(value))


def typed(slack_text: str) -> str:
    """Message or slash-command text as the person typed it: Slack's escaping undone, and its
    markup plain, inert text (a mention `@U…`, a broadcast `@here`, a channel `#name`, a link
    its text and target). Nested or malformed markup is undone from the inside out, and whatever
    `<` or `>` is left over is a character like any other."""
    text = clean_text(slack_text)
    while True:
        plain = SLACK_MARKUP.sub(_as_typed, text)
        if plain == text:
            return unescape(plain)
        text = plain


def _as_typed(match: re.Match[str]) -> str:
    target, _, label = match[1].partition("|")
    label = label.strip()
    if target.startswith("@"):
        return target  # the ID, not the label: stable, and "forget user" can find it
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("date^"):
            return label
        return "@" + (label.lstrip("@") or command.split("^")[0])
    if target.startswith("#"):
        return "#" + (label.lstrip("#") or target[1:])
    shown = target.removeprefix("mailto:")
    if not label or label in (shown, WEB_SCHEME.sub("", target)):
        return label or shown
    return f"{label} ({shown})"


def neutralise(slack_text: str) -> str:
    """Message or slash-command text as mrkdwn that pings nobody: `escape(typed(text))`."""
    return escape(typed(slack_text))


def searchable(slack_text: str) -> str:
    """What a person asked, for the search: mentions and broadcasts dropped, channel and link
    labels kept, escaping undone. (Search should not find "channel" in `@channel`.)"""

    def label(match: re.Match[str]) -> str:
        target, _, name = match[1].partition("|")
        if target.startswith(("@", "!")):
            return " "
        if target.startswith("#"):
            return " " + (name or "") + " "
        return " " + (name or target) + " "

    text = clean_text(slack_text)
    while (plain := SLACK_MARKUP.sub(label, text)) != text:
        text = plain
    return " ".join(unescape(text).split())


def slack_to_markdown(slack_text: str) -> str:
    """A message as a person wrote it in Slack, as Markdown for a knowledge entry: links
    become Markdown links, the rest typed text (mentions and broadcasts inert)."""
    linked = SLACK_LINK.sub(
        lambda m: f"[{m.group(2)}]({m.group(1)})" if m.group(2) else m.group(1), slack_text
    )
    return typed(linked)


def link(url: str | None, label: str) -> str:
    """mrkdwn linking `label` (typed text) to a web address, or the label alone when `url` is
    none: nothing in it can break out of the `<url|label>` markup."""
    if url is None or not WEB_ADDRESS.fullmatch(url):
        return escape(label)
    return f"<{escape(url)}|{escape(label)}>"


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
    """`text` (typed text or mrkdwn) in at most `limit` characters, ending with an ellipsis
    when it was cut: between words where that keeps at least half, else between two atoms;
    never inside `<…>` markup or an `&amp;` entity."""
    if len(text) <= limit:
        return text
    budget = limit - 1
    cut = _cut(text, budget, preferred=(" ",))
    return text[:cut].rstrip() + "…"


def _cut(text: str, budget: int, preferred: Sequence[str]) -> int:
    """Where to cut `text` to keep at most `budget` characters: before the last whitespace
    holding the first of `preferred` that it can (in order, keeping at least half the budget),
    else before the last whitespace that keeps half; else after the last whole atom, or inside
    a long word that is no link (a cut link would still be linked, to the wrong place)."""
    spaces: list[tuple[int, str]] = []
    kept = 0
    straddling = ""
    for match in ATOM.finditer(text):
        if match[0].isspace() and 0 < match.start() <= budget:
            spaces.append((match.start(), match[0]))
        if match.end() > budget:
            straddling = match[0]
            break
        kept = match.end()
    half = budget // 2
    for wanted in (*preferred, ""):
        for start, run in reversed(spaces):
            if start < half:
                break
            if wanted in run:
                return start
    if kept < half and WORD.fullmatch(straddling) and "://" not in straddling:
        return budget
    return kept


def markdown_to_slack(markdown: str) -> str:
    """An entry's Markdown as Slack mrkdwn (markdown_to_mrkdwn does the conversion).

    `&`, `<` and `>` are escaped first (a `>` opening a quote line stays), so nothing in an
    entry can become a mention or a broadcast."""
    escaped = clean_text(markdown).replace("&", "&amp;").replace("<", "&lt;")
    escaped = QUOTE_OR_GT.sub(lambda m: ">" if m.group(1) is not None else "&gt;", escaped)
    return _converter.convert(escaped)


def split_mrkdwn(text: str, limit: int) -> tuple[str, str]:
    """The first piece of mrkdwn `text` that fits in `limit` characters, and the rest: cut at
    a paragraph break, else a line break, else between words, never inside markup or an
    entity; a code block cut in two is closed and opened again."""
    if len(text) <= limit:
        return text, ""
    cut = _cut(text, limit - len(CODE_FENCE) - 1, preferred=("\n\n", "\n"))
    cut = cut or limit - len(CODE_FENCE) - 1
    piece, rest = text[:cut].rstrip(), text[cut:].lstrip()
    if piece.count(CODE_FENCE) % 2:
        piece, rest = f"{piece}\n{CODE_FENCE}", f"{CODE_FENCE}\n{rest}"
    return piece, rest


def sections(text: str) -> list[SectionBlock]:
    """Long mrkdwn as several section blocks, split as `split_mrkdwn` does."""
    blocks: list[SectionBlock] = []
    rest = text.strip()
    while rest:
        piece, rest = split_mrkdwn(rest, SECTION_TEXT_LIMIT)
        blocks.append(section(piece))
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
    """A time each reader sees in their own time zone (Slack formats it), saying so; where
    Slack cannot format it, in UTC, saying so. One style everywhere: "today at 09:30 (your
    time)", "Wed 9 Dec at 03:00 (your time)"."""
    fallback = moment.astimezone(UTC).strftime("%a %-d %b %Y at %H:%M UTC")
    shape = "{date_short_pretty} at {time} (your time)"
    return f"<!date^{int(moment.timestamp())}^{shape}|{fallback}>"


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
