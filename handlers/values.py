"""What a payload names, read as untrusted text, and how to answer the one who sent it.

A button's value, a modal's private_metadata and the message a payload says it came from are
written by Eddy, but they come back through the person's Slack client, and a forged payload
can carry anything: an ID that does not exist or belongs to another workspace, a word where a
number was, a number too big for the database, digits from another script. These helpers turn
such text into what Eddy can look up, or None, so that every listener answers it plainly (the
thing is gone, or not theirs) instead of failing. They never decide who may do what: the
domain does that, against the row the value names.

    user, routed_id = pressed_id(body)        # ("U0SAM0002", 12), or (…, None) for "12x"
    row_id("²")                               # None (str.isdigit() says True; int() fails)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from slack_bolt import Respond

from bot.runtime import Runtime
from handlers.blocks import HomeNotice

#: Row IDs are 32-bit integers on PostgreSQL; a bigger number names no row.
MAX_ROW_ID = 2**31 - 1
#: ASCII digits only: str.isdigit() also accepts superscripts and other scripts' digits.
DIGITS = re.compile(r"[0-9]{1,10}")


def row_id(value: object) -> int | None:
    """The row ID `value` names (a JSON number or a string of ASCII digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ROW_ID else None


def small_number(value: object, limit: int) -> int | None:
    """A whole number from 0 to `limit` (a page, an option's index), else None."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and DIGITS.fullmatch(value):
        number = int(value)
    return number if number is not None and 0 <= number <= limit else None


def presser(body: dict[str, Any]) -> str:
    """Who acted: the one field of a signed payload that Slack itself vouches for."""
    return str((body.get("user") or {}).get("id") or "")


def can_respond(respond: Respond | None) -> bool:
    """Whether the request came with a response_url to answer under its message (a button
    on a message does; one on a view, or a forged request, may not)."""
    return respond is not None and bool(respond.response_url)


def answer_presser(
    runtime: Runtime, body: dict[str, Any], respond: Respond | None, text: str
) -> None:
    """Tell only the presser: under the message they pressed, else on their Home tab."""
    if can_respond(respond):
        assert respond is not None
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        runtime.notify(HomeNotice(presser(body), text))


def action_value(body: dict[str, Any]) -> str:
    """The pressed element's value as text ("" when there is none or it is not text)."""
    actions = body.get("actions") or [{}]
    value = actions[0].get("value") if isinstance(actions[0], dict) else None
    return value if isinstance(value, str) else ""


def pressed_id(body: dict[str, Any]) -> tuple[str, int | None]:
    """(who pressed, the row ID in the button's value, or None)."""
    return presser(body), row_id(action_value(body))


def entered(view: dict[str, Any], block_id: str, action_id: str | None = None) -> dict[str, Any]:
    """What a submitted view's input holds (its element's state in `view.state.values`; the
    action_id is the block_id unless given), or {} when the view has no such input: a listener
    then sees an empty field, which it explains."""
    values = (view.get("state") or {}).get("values") or {}
    found = (values.get(block_id) or {}).get(action_id or block_id)
    return found if isinstance(found, dict) else {}


def metadata_text(view: dict[str, Any]) -> str:
    value = view.get("private_metadata")
    return value if isinstance(value, str) else ""


def seal(secret: str, user: str, facts: dict[str, Any]) -> str:
    """`facts` Eddy established for `user` (from Slack, not from them), as private_metadata
    that comes back unchanged or is refused: signed with the app's signing secret."""
    body = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return json.dumps({"facts": body, "mac": _mac(secret, user, body)})


def unseal(secret: str, user: str, raw: str) -> dict[str, Any] | None:
    """The facts `seal` wrote for `user`, or None when the metadata is not exactly that."""
    try:
        sealed = json.loads(raw)
        body, mac = sealed["facts"], sealed["mac"]
        if not isinstance(body, str) or not isinstance(mac, str):
            return None
        if not hmac.compare_digest(mac, _mac(secret, user, body)):
            return None
        facts = json.loads(body)
    except (ValueError, TypeError, KeyError):
        return None
    return facts if isinstance(facts, dict) else None


def _mac(secret: str, user: str, body: str) -> str:
    message = f"eddy-private-metadata:{user}:{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
