"""What Slack accepts but shows wrong: a check of the text in everything Eddy sends.

Real Slack takes any string, so nothing refuses these; the reader is the one who sees
`R&amp;amp;D`, a usage line that reads `/ask` (its `<question>` taken for markup and dropped),
a link cut in half, a header that reads `&lt;b&gt;`, or who gets pinged by an `@channel` Eddy
only meant to repeat. The rules follow handlers/blocks.py:

- mrkdwn (text objects of type `mrkdwn`, and a message's `text` unless `mrkdwn` is false):
  `&`, `<` and `>` stand only for themselves escaped (`&amp;`, `&lt;`, `&gt;`), escaped once
  (never `&amp;amp;`); a `<` opens whole markup of a kind Slack knows (a mention, a channel, a
  date, a link) that ends on the same line; a bare `>` only opens a quote line; no
  `<!here>`, `<!channel>`, `<!everyone>` or user-group mention, which would ping people;
- plain_text (text objects of type `plain_text`, a text input's `initial_value`, a view's
  `errors`): nothing escaped, and no markup (Slack shows both as they are);
- everywhere: no control characters (tab and newline aside); and it reads as a sentence, not
  a form: no "expert(s)" (bot/text.py `plural` counts), no word said twice ("paused: paused
  by", "the the"), no doubled punctuation ("::", "((", "))", ",,", ".." that is no "...").
  Code (between backticks) is left out of the wording check: it is quoted, not said.

    for problem in text_problems({"text": "R&amp;amp;D", "blocks": []}):
        print(problem)            # text: escaped twice ('&amp;amp;'): …R&amp;amp;D…

`sent_text_problems(stand_in)` applies it to every message, ephemeral, update, response_url
post, view, file comment and acknowledgement Eddy sent to a stand-in; tests/conftest.py runs it
after every test that uses one.

It reads the text as sent, not as meant: a person who really typed `&lt;` is shown `&amp;lt;`,
correctly, and the check would call it escaped twice. Tests type what people type, so none
needs to; a test that did would be testing something else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from sandbox.slack import SlackStandIn

#: Web API methods whose arguments are a message (`text`, `blocks`), and those with a view.
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TWICE = re.compile(r"&amp;(?:amp|lt|gt);")
BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")
ENTITY = re.compile(r"&(?:amp|lt|gt);")
#: The markup Slack knows, between `<` and `>`: mentions, channels, dates, links.
MARKUP = re.compile(
    r"@[UW][A-Z0-9]+(?:\|[^|]*)?"
    r"|#C[A-Z0-9]+(?:\|[^|]*)?"
    r"|!(?:here|channel|everyone)(?:\|[^|]*)?"
    r"|!subteam\^[A-Z0-9]+(?:\|[^|]*)?"
    r"|!date\^\d+\^[^|^]+(?:\^[^|^]+)?\|[^|]+"
    r"|(?:https?://|mailto:)[^\s|]+(?:\|[^|]+)?"
)
BROADCAST = re.compile(r"^!(?:here|channel|everyone|subteam\^)")
OPENING = re.compile(r"<([^<>\n]*)(>?)")
QUOTE_MARKER = re.compile(r"^[ \t]*>", re.MULTILINE)
PLAIN_MARKUP = re.compile(r"<(?:[@#!]|https?://|mailto:)[^<>\n]*>")
EXCERPT = 30
#: Wording a reader stumbles on (code spans are blanked out first).
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
FORM_PLURAL = re.compile(r"[A-Za-z]\((?:s|es)\)")
REPEATED_WORD = re.compile(r"\b([A-Za-z]{2,}):?[ \t]+\1\b(?!['’])", re.IGNORECASE)
DOUBLED_PUNCTUATION = re.compile(r"(?<![\w+-])::|\(\(|\)\)|,,|;;|(?<!\.)\.\.(?!\.)")


def text_problems(
    payload: dict[str, Any], *, kind: str = "message", wording: bool = False
) -> list[str]:
    """What a reader would see wrong in one message (`text`, `blocks`) or view (`kind` "view"),
    each as "where: what: …excerpt…"; with `wording`, also what reads wrong as a sentence
    (`wording_problems`: Eddy's own sentences, not any text)."""
    problems: list[str] = []
    if kind == "message" and isinstance(payload.get("text"), str) and payload["text"]:
        if payload.get("mrkdwn", True) is False:
            problems += _at("text", plain_text_problems(payload["text"]))
        else:
            problems += _at("text", mrkdwn_problems(payload["text"]))
        if wording:
            problems += _at("text", wording_problems(payload["text"]))
    for where, text, form in _text_fields(payload, ""):
        found = mrkdwn_problems(text) if form == "mrkdwn" else plain_text_problems(text)
        problems += _at(where, found + (wording_problems(text) if wording else []))
    errors = payload.get("errors")
    if isinstance(errors, dict):
        for block, error in errors.items():
            if isinstance(error, str):
                problems += _at(f"errors/{block}", plain_text_problems(error))
    return problems


def mrkdwn_problems(text: str) -> list[str]:
    """What Slack would show wrong in one mrkdwn string."""
    problems = _controls(text)
    problems += [_near(text, m, "escaped twice") for m in TWICE.finditer(text)]
    problems += [
        _near(text, m, "a bare `&` (not `&amp;`, `&lt;` or `&gt;`)")
        for m in BARE_AMPERSAND.finditer(text)
    ]
    closing = set()
    for match in OPENING.finditer(text):
        inside, closed = match[1], match[2]
        if not closed:
            problems.append(_near(text, match, "a `<` that opens no markup (cut, or unescaped)"))
        elif not MARKUP.fullmatch(inside):
            problems.append(_near(text, match, "markup Slack does not know (unescaped `<`)"))
        elif BROADCAST.match(inside):
            problems.append(_near(text, match, "a live broadcast (it pings people)"))
        if closed:
            closing.add(match.end() - 1)
    quotes = {m.end() - 1 for m in QUOTE_MARKER.finditer(text)}
    for index, character in enumerate(text):
        if character == ">" and index not in closing and index not in quotes:
            problems.append(_near(text, re.compile(">").match(text, index), "a bare `>`"))
    return problems


def plain_text_problems(text: str) -> list[str]:
    """What Slack would show wrong in one plain_text string (shown exactly as sent)."""
    problems = _controls(text)
    problems += [
        _near(text, m, "an entity in plain_text (Slack shows it as sent)")
        for m in ENTITY.finditer(text)
    ]
    problems += [
        _near(text, m, "markup in plain_text (Slack shows it as sent)")
        for m in PLAIN_MARKUP.finditer(text)
    ]
    return problems


def wording_problems(text: str) -> list[str]:
    """What reads wrong in `text` as a sentence: a form's "(s)", a word said twice, doubled
    punctuation. Code spans are quoted, not said, so they are left out."""
    said = CODE.sub(lambda m: " " * len(m[0]), text)
    return (
        [
            _near(text, m, 'a form\'s plural (say "1 expert", "2 experts")')
            for m in FORM_PLURAL.finditer(said)
        ]
        + [_near(text, m, "a word said twice") for m in REPEATED_WORD.finditer(said)]
        + [_near(text, m, "doubled punctuation") for m in DOUBLED_PUNCTUATION.finditer(said)]
    )


def sent_text_problems(stand_in: SlackStandIn) -> list[str]:
    """Every problem in what the app sent to `stand_in`: Web API calls with a message or a
    view, response_url posts, and the bodies of its acknowledgements."""
    problems: list[str] = []
    for number, call in enumerate(stand_in.calls(), start=1):
        if call.method in MESSAGE_METHODS or call.method == "response_url":
            found = text_problems(call.args, wording=True)
        elif call.method in VIEW_METHODS and isinstance(call.args.get("view"), dict):
            found = text_problems(call.args["view"], kind="view", wording=True)
        elif call.method == "files.completeUploadExternal":
            found = text_problems({"text": call.args.get("initial_comment") or ""}, wording=True)
        else:
            continue
        to = call.args.get("channel") or call.args.get("user_id") or ""
        problems += [f"{call.method} (call {number}{' to ' + to if to else ''}) {p}" for p in found]
    for request, reply in stand_in.acknowledgements():
        kind = "view" if "response_action" in reply else "message"
        found = text_problems(reply, kind=kind, wording=True)
        problems += [f"the ack to {describe(request)} {p}" for p in found]
        if isinstance(reply.get("view"), dict):
            found = text_problems(reply["view"], kind="view", wording=True)
            problems += [f"the view in the ack to {describe(request)} {p}" for p in found]
    return problems


def describe(request: str) -> str:
    """A request Slack sent, in a few words: the command, or the payload's type and id."""
    form = dict(parse_qsl(request))
    if "command" in form:
        return f"{form['command']} {form.get('text', '')}".strip()
    try:
        payload = json.loads(form.get("payload") or request)
    except ValueError:
        return "a request"
    kind = str(payload.get("type", "a request"))
    view = payload.get("view") or {}
    action = (payload.get("actions") or [{}])[0].get("action_id")
    detail = view.get("callback_id") or action or payload.get("callback_id") or ""
    return f"{kind} {detail}".strip()


def _text_fields(node: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """(where, text, "mrkdwn" or "plain_text") for every shown text in a Block Kit tree."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _text_fields(item, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        yield f"{path}/text", node["text"], kind
        return
    if kind == "plain_text_input" and isinstance(node.get("initial_value"), str):
        yield f"{path}/initial_value", node["initial_value"], "plain_text"
    for key, value in node.items():
        if key != "text" or isinstance(value, dict | list):
            yield from _text_fields(value, f"{path}/{key}")


def _controls(text: str) -> list[str]:
    return [
        _near(text, m, f"a control character (U+{ord(m[0]):04X})") for m in CONTROL.finditer(text)
    ]


def _near(text: str, match: re.Match[str] | None, what: str) -> str:
    if match is None:
        return what
    start, end = max(0, match.start() - EXCERPT), min(len(text), match.end() + EXCERPT)
    excerpt = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return f"{what} ({match[0]!r}): {excerpt!r}"


def _at(where: str, problems: list[str]) -> list[str]:
    return [f"{where.lstrip('/')}: {problem}" for problem in problems]
