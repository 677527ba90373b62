"""What every slash command shares: its usage, and the answers to text it cannot use.

`help`, empty text where text is needed, and text past the length limit get the same kind of
short ephemeral answer with the usage line in every command, before the capability sees it.
The command's text arrives as Slack sends it (escaped, with markup); its length is counted as
the person typed it. Usage lines are mrkdwn like every reply: `/ask <question>` is escaped.

    ASK = SlashCommand("/ask", "Ask Eddy a question.", ("/ask <question>",), needs_text=True)
    reply = ASK.screen(text)        # None when the capability should handle `text`
    if reply is not None:
        ack(**reply)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handlers.blocks import escape, notice, shorten, typed

#: A mention as `typed()` keeps it: the member ID after an @.
TYPED_MENTION = re.compile(r"@[UW][A-Z0-9]{2,}")

#: Longer text is refused with an explanation (Slack itself allows up to 4,000 characters).
MAX_TEXT = 1000
HELP_WORDS = {"help", "?", "-h", "--help", "usage"}


@dataclass(frozen=True)
class SlashCommand:
    name: str
    summary: str
    usage: tuple[str, ...]
    needs_text: bool = False

    def usage_lines(self) -> list[str]:
        return ["*Usage:* " + " · ".join(f"`{escape(line)}`" for line in self.usage)]

    def reply(self, text: str) -> dict[str, Any]:
        """An ephemeral reply (for `ack` or `respond`) that ends with the usage line."""
        return {"text": text, "blocks": notice(text, usage=self.usage_lines())}

    def help(self) -> dict[str, Any]:
        return self.reply(f"*{self.name}* — {escape(self.summary)}")

    def screen(self, text: str) -> dict[str, Any] | None:
        """The reply for text no capability should see (help, empty, too long), or None."""
        words = typed(text).strip()
        if words.lower() in HELP_WORDS or (not words and self.needs_text):
            return self.help()
        if len(words) > MAX_TEXT:
            return self.reply(
                f"That's {len(words):,} characters; {self.name} takes at most {MAX_TEXT:,}. "
                "Try a shorter version."
            )
        return None

    def unknown(self, text: str) -> dict[str, Any]:
        first = (typed(text).split() or ["that"])[0]
        if TYPED_MENTION.fullmatch(first):  # a person, which typed text keeps as @U…: no name
            return self.reply(f"{self.name} doesn't take a person there.")
        word = escape(shorten(first, 40))
        return self.reply(f"I don't know `{word}` for {self.name}.")
