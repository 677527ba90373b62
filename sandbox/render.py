"""Slack content for a terminal: mrkdwn, Block Kit, messages and views as Rich renderables.

The console sandbox shows what a person would see in Slack. Every piece of text becomes a Rich
`Text` built span by span, never a markup string, so whatever a person or Eddy wrote is shown as
written: `[bold]x[/bold]` in a message stays `[bold]x[/bold]`, and Slack's escaping
(`&lt;!channel&gt;`) shows as the literal `<!channel>`, never as a mention.

    renderer = Renderer(workspace, viewer="U0ALEX001")
    console.print(renderer.mrkdwn("*Hi* <@U0SAM0002>, see <https://x.dev|the docs> &amp; more"))
    console.print(renderer.message(message, label="m3", button=number_button))
    console.print(renderer.view(home, button=number_button))

`button` is called once per button shown, as `button(block, element)`, and returns the number
to show on it (`[3 Helpful]`) so the console can press it later; None shows no number. A text
input that sends what is typed when Enter is pressed (`dispatches_on_enter`) is numbered the same
way (`[4 ✎ text: …] ↵`), so the console can type into it; other inputs are filled in on submit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text

from sandbox.workspace import Message, View, Workspace

log = logging.getLogger(__name__)

NumberButton = Callable[[dict[str, Any], dict[str, Any]], int | None]

#: How far a message's body is indented under its header line.
BODY_INDENT = 5

PLAIN = Style.null()
BOLD = Style(bold=True)
DIM = Style(dim=True)
CODE = Style(color="bright_magenta")
MENTION = Style(color="cyan", bold=True)
MENTION_OF_VIEWER = Style(color="yellow", bold=True)
BROADCAST = Style(color="yellow", bold=True)
#: The number the console shows on a button or a text input, to press or type into it.
NUMBER = Style(color="cyan", bold=True)
EMPHASIS = {"bold": BOLD, "italic": Style(italic=True), "strike": Style(strike=True)}
BUTTON_STYLES = {
    "primary": Style(color="green", bold=True),
    "danger": Style(color="red", bold=True),
}
BROADCASTS = {"here", "channel", "everyone"}

CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
# Slack's inline formatting: a marker opens after a non-word character and before a non-space,
# and closes after a non-space and before a non-word character, all on one line. Inline code and
# <…> tokens come first in the alternation so that markers inside them are left alone; emphasis
# may enclose such tokens (a date's `{date_short_pretty}` has underscores of its own).
INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|<(?P<token>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>[^\s*](?:(?:<[^<>\n]*>|[^*\n])*?(?:<[^<>\n]*>|[^\s*]))?)\*(?![\w*])"
    r"|(?<!\w)_(?P<italic>[^\s_](?:(?:<[^<>\n]*>|[^_\n])*?(?:<[^<>\n]*>|[^\s_]))?)_(?!\w)"
    r"|(?<![\w~])~(?P<strike>[^\s~](?:(?:<[^<>\n]*>|[^~\n])*?(?:<[^<>\n]*>|[^\s~]))?)~(?![\w~])"
)
QUOTE = re.compile(r"^(?:&gt;|>) ?")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def is_number(text: str) -> bool:
    """Whether what was typed is a number like 3 (`str.isdigit` also takes "²", which `int`
    refuses)."""
    return text.isascii() and text.isdigit()


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<` and `>`, in one pass (`&amp;lt;` becomes `&lt;`)."""
    return ENTITY.sub(lambda match: ENTITIES[match[1]], text)


def plain_text(obj: Any) -> str:
    """The text of a Block Kit text object (or a bare string), without any formatting."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def option_label(option: dict[str, Any]) -> str:
    return plain_text(option.get("text")) or str(option.get("value", ""))


def dispatches_on_enter(block: dict[str, Any]) -> bool:
    """Whether `block` is an input whose plain_text_input sends block_actions when Enter is
    pressed in it: the block has `dispatch_action: true` and the element's
    `dispatch_action_config` (Enter by default) includes Enter, as the stand-in's `enter` asks."""
    element = block.get("element") or {}
    if block.get("type") != "input" or not block.get("dispatch_action"):
        return False
    if element.get("type") != "plain_text_input":
        return False
    config = element.get("dispatch_action_config") or {}
    return "on_enter_pressed" in config.get("trigger_actions_on", ["on_enter_pressed"])


@dataclass
class Renderer:
    """Renders for one viewer: their mentions stand out and times are in their time zone."""

    workspace: Workspace
    viewer: str = ""

    # --- text ------------------------------------------------------------------------------

    def mrkdwn(self, text: str, style: Style = PLAIN) -> Text:
        """Slack mrkdwn as Rich `Text`: formatting, mentions, links, code and quotes."""
        out = Text()
        position = 0
        for match in CODE_BLOCK.finditer(text):
            self._lines(out, text[position : match.start()], style)
            self._code_block(out, match[1], style)
            position = match.end()
        self._lines(out, text[position:], style)
        out.rstrip()
        return out

    def text_object(self, obj: Any, style: Style = PLAIN) -> Text:
        """A Block Kit text object: `mrkdwn` is parsed, `plain_text` is shown as it is."""
        if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
            return self.mrkdwn(str(obj.get("text", "")), style)
        return Text(plain_text(obj), style=style)

    def _lines(self, out: Text, segment: str, style: Style) -> None:
        if out.plain.endswith("\n") and segment.startswith("\n"):
            segment = segment[1:]
        for index, line in enumerate(segment.split("\n")):
            if index:
                out.append("\n")
            quote = QUOTE.match(line)
            if quote:
                out.append("▎ ", DIM)
                line = line[quote.end() :]
            self._inline(out, line, style)

    def _code_block(self, out: Text, body: str, style: Style) -> None:
        if out.plain and not out.plain.endswith("\n"):
            out.append("\n")
        for line in unescape(body).split("\n"):
            out.append("▏ ", DIM)
            out.append(line, style + CODE)
            out.append("\n")

    def _inline(self, out: Text, text: str, style: Style) -> None:
        position = 0
        for match in INLINE.finditer(text):
            out.append(unescape(text[position : match.start()]), style)
            kind = match.lastgroup or ""
            body = match[kind]
            if kind == "code":
                out.append(unescape(body), style + CODE)
            elif kind == "token":
                self._token(out, body, style)
            else:
                self._inline(out, body, style + EMPHASIS[kind])
            position = match.end()
        out.append(unescape(text[position:]), style)

    def _token(self, out: Text, body: str, style: Style) -> None:
        """One `<…>` token: a mention, a channel, a broadcast, a date or a link."""
        head, _, label = body.partition("|")
        label = unescape(label)
        if head.startswith("@"):
            self._user(out, head[1:], label, style)
        elif head.startswith("#"):
            channel = self.workspace.channels.get(head[1:])
            name = channel.name if channel and not channel.is_im else label or head[1:]
            out.append(f"#{name}", style + MENTION)
        elif head.startswith("!"):
            command = head[1:]
            if command in BROADCASTS:
                out.append(f"@{command}", style + BROADCAST)
            elif command.startswith("subteam^"):
                out.append(label or "@group", style + MENTION)
            elif command.startswith("date^") and is_number(command.split("^")[1]):
                _, ts, *shape = command.split("^")
                out.append(self.date(ts, shape[0] if shape else ""), style)  # viewer's zone
            else:
                out.append(label or command.split("^")[0], style)
        else:
            self._link(out, unescape(head), label, style)

    def _user(self, out: Text, user_id: str, label: str, style: Style) -> None:
        user = self.workspace.user(user_id)
        name = user.name if user else label.lstrip("@") or user_id
        mention = MENTION_OF_VIEWER if user is not None and user.id == self.viewer else MENTION
        out.append(f"@{name}", style + mention)

    def _link(self, out: Text, url: str, label: str, style: Style) -> None:
        link = style + Style(underline=True, link=url)
        if url.startswith("mailto:") and label in ("", url.removeprefix("mailto:")):
            out.append(url.removeprefix("mailto:"), link)
        elif label and label != url:
            out.append(label, link)
            out.append(f" ({url})", style + DIM)
        else:
            out.append(url, link)

    # --- blocks ----------------------------------------------------------------------------

    def blocks(
        self,
        blocks: Iterable[dict[str, Any]],
        button: NumberButton | None = None,
        *,
        on_home: bool = False,
    ) -> Group:
        return Group(*(self.block(block, button, on_home=on_home) for block in blocks))

    def block(
        self, block: dict[str, Any], button: NumberButton | None = None, *, on_home: bool = False
    ) -> RenderableType:
        """One block; a type the console does not know, or a malformed block, is a dim line.
        `on_home`: the block is on a Home tab, where an input that does not send on Enter says
        so (a modal's footer already says that its inputs are filled in on submit)."""
        kind = str(block.get("type", ""))
        render = BLOCKS.get(kind)
        if render is None:
            return Text(f"({kind or 'untyped'} block: not shown in the console)", DIM)
        try:
            shown = render(self, block, button)
        except (AttributeError, KeyError, TypeError, ValueError):
            log.exception("Could not render a %s block: %r", kind, block)
            return Text(f"({kind} block: could not be shown)", DIM)
        if on_home and kind == "input" and not dispatches_on_enter(block):
            note = Text("filled in on submit: pressing Enter here sends nothing to the app", DIM)
            return Group(shown, Padding(note, (0, 2)))
        return shown

    def _header(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        return Text(plain_text(block.get("text")), Style(bold=True, underline=True))

    def _section(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        parts: list[RenderableType] = []
        if block.get("text"):
            parts.append(self.text_object(block["text"]))
        fields = [self.text_object(field) for field in block.get("fields") or []]
        if fields:
            grid = Table.grid(padding=(0, 4))
            grid.add_column()
            grid.add_column()
            for index in range(0, len(fields), 2):
                grid.add_row(
                    *fields[index : index + 2], *([Text()] if index + 1 == len(fields) else [])
                )
            parts.append(grid)
        body = Group(*parts)
        accessory = block.get("accessory")
        if not accessory:
            return body
        layout = Table.grid(expand=True, padding=(0, 2))
        layout.add_column(ratio=1)
        layout.add_column(justify="right", no_wrap=True)
        layout.add_row(body, self.element(accessory, block, button))
        return layout

    def _context(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        parts = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                parts.append(Text(f"[image: {element.get('alt_text', '')}]", DIM))
            else:
                parts.append(self.text_object(element, DIM))
        return Text("  ").join(parts)

    def _divider(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        return Rule(style=DIM)

    def _actions(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        """A row of elements, wrapped between elements, never inside one ("[6 Schedules]"
        stays whole, as Slack never splits a button)."""
        elements = [self.element(e, block, button) for e in block.get("elements") or []]
        return Columns(elements, padding=(0, 2))

    def _input(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        label = Text(plain_text(block.get("label")), BOLD)
        if block.get("optional"):
            label.append("  (optional)", DIM)
        element = block["element"]
        field = self.input_field(element)
        number = button(block, element) if button and dispatches_on_enter(block) else None
        if number is not None:  # typed into by number, and sent with Enter (↵)
            field = Text.assemble(
                ("[", DIM), (f"{number} ", NUMBER), field, ("]", DIM), (" ↵", NUMBER)
            )
        parts: list[RenderableType] = [label, Padding(field, (0, 2))]
        if block.get("hint"):
            parts.append(Padding(Text(plain_text(block["hint"]), DIM), (0, 2)))
        return Group(*parts)

    def _image(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        image = Text(f"[image: {block.get('alt_text', '')}]", DIM)
        if block.get("title"):
            image = Text.assemble(Text(plain_text(block["title"]), BOLD), " ", image)
        return image

    def _rich_text(self, block: dict[str, Any], button: NumberButton | None) -> RenderableType:
        out = Text()
        for element in block.get("elements") or []:
            if out.plain:
                out.append("\n")
            kind = element.get("type")
            if kind == "rich_text_list":
                items = element.get("elements") or []
                indent = "  " * int(element.get("indent", 0))
                first = int(element.get("offset", 0)) + 1
                for index, item in enumerate(items):
                    if index:
                        out.append("\n")
                    ordered = element.get("style") == "ordered"
                    out.append(indent + (f"{first + index}. " if ordered else "• "))
                    self._rich_inline(out, item.get("elements") or [])
            elif kind == "rich_text_preformatted":
                code = Text()
                self._rich_inline(code, element.get("elements") or [])
                for index, line in enumerate(code.plain.split("\n")):
                    out.append(("\n" if index else "") + "▏ ", DIM)
                    out.append(line, CODE)
            elif kind == "rich_text_quote":
                out.append("▎ ", DIM)
                self._rich_inline(out, element.get("elements") or [])
            else:
                self._rich_inline(out, element.get("elements") or [])
        return out

    def _rich_inline(self, out: Text, elements: list[dict[str, Any]]) -> None:
        for element in elements:
            kind = element.get("type")
            flags = element.get("style") or {}
            style = PLAIN
            for flag, extra in (*EMPHASIS.items(), ("code", CODE)):
                if flags.get(flag):
                    style += extra
            if kind == "text":
                out.append(str(element.get("text", "")), style)
            elif kind == "link":
                self._link(out, str(element.get("url", "")), str(element.get("text", "")), style)
            elif kind == "user":
                self._user(out, str(element.get("user_id", "")), "", style)
            elif kind == "channel":
                self._token(out, f"#{element.get('channel_id', '')}", style)
            elif kind == "broadcast":
                out.append(f"@{element.get('range', 'here')}", style + BROADCAST)
            elif kind == "emoji":
                out.append(f":{element.get('name', '')}:", style)
            elif kind == "usergroup":
                out.append("@group", style + MENTION)
            elif kind == "date":
                out.append(str(element.get("fallback") or element.get("timestamp", "")), style)

    # --- elements --------------------------------------------------------------------------

    def element(
        self, element: dict[str, Any], block: dict[str, Any], button: NumberButton | None
    ) -> Text:
        """An interactive element shown inline: a numbered button, or a description."""
        kind = str(element.get("type", ""))
        if kind == "button":
            number = button(block, element) if button else None
            label = Text("[", DIM)
            if number is not None:
                label.append(f"{number} ", NUMBER)
            label.append(
                plain_text(element.get("text")), BUTTON_STYLES.get(element.get("style", ""), BOLD)
            )
            if element.get("url"):
                label.append(" ↗", DIM)
            label.append("]", DIM)
            return label
        if kind == "image":
            return Text(f"[image: {element.get('alt_text', '')}]", DIM)
        if kind == "overflow":
            return Text("[⋯]", DIM)
        if kind.endswith("select"):
            shown = self.current_value(element) or plain_text(element.get("placeholder"))
            return Text(f"[▾ {shown or 'choose'}]", DIM)
        return Text.assemble(("[", DIM), self.input_field(element), ("]", DIM))

    def input_field(self, element: dict[str, Any]) -> Text:
        """What kind of input this is, and what it holds now (or its placeholder)."""
        kind = str(element.get("type", ""))
        out = Text(f"✎ {INPUT_KINDS.get(kind, kind.replace('_', ' '))}", DIM)
        if element.get("multiline"):
            out.append(" (several lines)", DIM)
        options = element.get("options") or []
        if options:
            chosen = current_options(element)
            out.append(": ", DIM)
            for index, option in enumerate(options):
                if index:
                    out.append(" · ", DIM)
                picked = option.get("value") in chosen
                out.append(
                    ("● " if picked else "") + option_label(option), BOLD if picked else PLAIN
                )
            return out
        now = self.current_value(element)
        if now:
            out.append(": ", DIM)
            out.append(now)
        elif element.get("placeholder"):
            out.append(": ", DIM)
            out.append(plain_text(element["placeholder"]), Style(dim=True, italic=True))
        return out

    def current_value(self, element: dict[str, Any]) -> str:
        """The initial value of an input, as a person would read it ('' when empty)."""
        for key in ("initial_value", "initial_date", "initial_time"):
            if element.get(key):
                return str(element[key])
        if element.get("initial_option"):
            return option_label(element["initial_option"])
        if element.get("initial_options"):
            return ", ".join(option_label(o) for o in element["initial_options"])
        people = element.get("initial_users") or [element.get("initial_user")]
        names = [self._name(user) for user in people if user]
        channels = element.get("initial_channels") or element.get("initial_conversations") or []
        single = element.get("initial_channel") or element.get("initial_conversation")
        names += [self._channel_name(c) for c in [*channels, single] if c]
        return ", ".join(names)

    def _name(self, user_id: str) -> str:
        user = self.workspace.user(user_id)
        return f"@{user.name}" if user else user_id

    def _channel_name(self, channel_id: str) -> str:
        channel = self.workspace.channels.get(channel_id)
        return f"#{channel.name}" if channel else channel_id

    # --- messages and views ----------------------------------------------------------------

    def local_zone(self) -> tzinfo:
        viewer = self.workspace.user(self.viewer)
        return ZoneInfo(viewer.tz) if viewer else UTC

    def date(self, ts: str, shape: str) -> str:
        """A `<!date^ts^shape|…>` token as Slack shows it, in the viewer's zone: `{time}`,
        and the date tokens, "pretty" ones saying today, tomorrow or yesterday."""
        zone = self.local_zone()
        when = datetime.fromtimestamp(float(ts), zone)
        if not shape:
            return self.time(ts)
        today = self.workspace.clock.now().astimezone(zone).date()
        near = {0: "today", 1: "tomorrow", -1: "yesterday"}.get((when.date() - today).days)
        plain = f"{when:%a} {when.day} {when:%b}"

        def token(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("time"):
                return f"{when:%H:%M:%S}" if name == "time_secs" else f"{when:%H:%M}"
            if name.endswith("_pretty") and near:
                return near
            return plain

        return re.sub(r"\{(\w+)\}", token, shape)

    def time(self, ts: str) -> str:
        """A message time in the viewer's zone; the day is added unless it is today for them."""
        zone = self.local_zone()
        when = datetime.fromtimestamp(float(ts), zone)
        today = self.workspace.clock.now().astimezone(zone).date()
        if when.date() == today:
            return f"{when:%H:%M}"
        return f"{when:%a} {when.day} {when:%b %H:%M}"

    def channel_label(self, channel_id: str) -> str:
        channel = self.workspace.channels.get(channel_id)
        if channel is None:
            return channel_id
        if not channel.is_im:
            return f"#{channel.name}"
        bot = self.workspace.bot.real_name
        if channel.im_user == self.viewer:
            return f"DM with {bot}"
        person = self.workspace.user(channel.im_user or "")
        return f"DM between {person.real_name if person else channel.im_user} and {bot}"

    def message(
        self,
        message: Message,
        *,
        label: str = "",
        parent: str = "",
        button: NumberButton | None = None,
    ) -> RenderableType:
        """A message as Slack lists it: who, where, when, then its blocks (or text), its
        files and reactions. `label` numbers it (`m3`); `parent` names the message it replies
        to."""
        author = self.workspace.user(message.user)
        header = Text(f"{label:<{BODY_INDENT - 1}} ", Style(dim=True, bold=True))
        if author is not None and author.is_bot:
            header.append(author.real_name, Style(color="cyan", bold=True))
            header.append(" app", DIM)
        else:
            header.append(
                author.real_name if author else message.user, Style(color="green", bold=True)
            )
        header.append(f"  {self.channel_label(message.channel)} · {self.time(message.ts)}", DIM)
        if message.is_reply:
            header.append(f"  ↳ reply to {parent}" if parent else "  ↳ reply in a thread", DIM)
        if message.ephemeral_to is not None:
            header.append("  (only visible to you)", Style(color="yellow", italic=True))
        if message.edited:
            header.append("  (edited)", DIM)
        body: RenderableType
        if message.blocks:
            body = self.blocks(message.blocks, button)
        elif message.text:
            body = self.mrkdwn(message.text)
        else:
            body = Text("(no text)", DIM)
        parts: list[RenderableType] = [header, Padding(body, (0, 0, 0, BODY_INDENT))]
        for shared in message.files:
            attached = Text(f"📎 {shared.title or shared.name}", Style(bold=True))
            attached.append(f"  {shared.name} · {len(shared.content or b''):,} bytes", DIM)
            parts.append(Padding(attached, (0, 0, 0, BODY_INDENT)))
        if message.reactions:
            parts.append(Padding(self.reactions(message), (0, 0, 0, BODY_INDENT)))
        return Group(*parts)

    def reactions(self, message: Message) -> Text:
        """`:thumbsup: 2  :tada: 1`; the viewer's own reactions are highlighted."""
        out = Text()
        for name, users in message.reactions.items():
            if out.plain:
                out.append("  ")
            mine = self.viewer in users
            out.append(f":{name}: {len(users)}", Style(color="yellow", bold=True) if mine else DIM)
        return out

    def view(self, view: View, *, button: NumberButton | None = None) -> Panel:
        """The Home tab or a modal, framed, with the modal's submit and close labels."""
        blocks = view.blocks
        body: RenderableType = (
            self.blocks(blocks, button, on_home=view.type == "home")
            if blocks
            else Text("(empty)", DIM)
        )
        if view.type == "home":
            title = Text(f"{self.workspace.bot.real_name} · Home", BOLD)
            return Panel(body, title=title, title_align="left", border_style="cyan", padding=(0, 1))
        title = Text(view.title() or "Modal", BOLD)
        footer = Text()
        if view.payload.get("submit"):
            footer.append("submit", Style(color="cyan", bold=True))
            footer.append(f" → {plain_text(view.payload['submit'])}   ", DIM)
        footer.append("cancel", Style(color="cyan", bold=True))
        footer.append(f" → {plain_text(view.payload.get('close')) or 'Cancel'}", DIM)
        return Panel(
            body,
            title=title,
            title_align="left",
            subtitle=footer,
            subtitle_align="right",
            border_style="magenta",
            padding=(1, 2),
        )


def current_options(element: dict[str, Any]) -> set[str]:
    chosen = [element.get("initial_option"), *(element.get("initial_options") or [])]
    return {str(option.get("value")) for option in chosen if option}


#: How each input element is described to a person.
INPUT_KINDS = {
    "plain_text_input": "text",
    "rich_text_input": "text",
    "number_input": "a number",
    "email_text_input": "an email address",
    "url_text_input": "a link",
    "static_select": "choose one",
    "external_select": "choose one",
    "radio_buttons": "choose one",
    "multi_static_select": "choose any",
    "multi_external_select": "choose any",
    "checkboxes": "choose any",
    "users_select": "a person",
    "multi_users_select": "people",
    "conversations_select": "a conversation",
    "multi_conversations_select": "conversations",
    "channels_select": "a channel",
    "multi_channels_select": "channels",
    "datepicker": "a date (YYYY-MM-DD)",
    "timepicker": "a time (HH:MM)",
    "datetimepicker": "a date and time",
    "file_input": "a file (not available in the console)",
}

BLOCKS: dict[str, Callable[[Renderer, dict[str, Any], NumberButton | None], RenderableType]] = {
    "header": Renderer._header,
    "section": Renderer._section,
    "context": Renderer._context,
    "divider": Renderer._divider,
    "actions": Renderer._actions,
    "input": Renderer._input,
    "image": Renderer._image,
    "rich_text": Renderer._rich_text,
}
