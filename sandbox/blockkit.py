"""Block Kit as Slack checks it: the rules the stand-in refuses a message or a view for.

Slack refuses a whole `chat.postMessage` (`invalid_blocks`) or `views.publish`
(`invalid_arguments`) for one bad field, and says which with a JSON pointer. These are the rules
of Slack's Block Kit reference that slack_sdk's models do not check, or check only one level
deep: uniqueness (an `action_id` within its block, a `block_id` within the message or view),
every text object's kind and length, options and their counts, initial options that must be
among the options, input lengths, and a modal's own fields. slack_sdk's models still check
each block's shape (`webapi.block_errors`).

    message_errors(blocks)
    # ["must be less than 151 characters [json-pointer:/blocks/2/accessory/options/0/value]"]
    view_errors(view)       # the same, pointing under /view
"""

from __future__ import annotations

import json
from typing import Any

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
#: A view's serialised size past which Slack answers `view_too_large` ("greater than 250kb").
VIEW_BYTE_LIMIT = 250_000
#: Message `text` past this is cut off by Slack (its docs: "truncated past 40,000").
MESSAGE_TEXT_LIMIT = 40_000
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
HEADER_LIMIT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
LABEL_LIMIT = 2000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
URL_LIMIT = 3000
ID_LIMIT = 255
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
OPTION_DESCRIPTION_LIMIT = 75
SELECT_OPTIONS = 100
PLACEHOLDER_LIMIT = 150
INPUT_LENGTH_LIMIT = 3000
VIEW_LABEL_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000
IMAGE_ALT_LIMIT = 2000
#: How many options each kind of option element takes (at least one).
OPTION_COUNTS = {
    "static_select": SELECT_OPTIONS,
    "multi_static_select": SELECT_OPTIONS,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}
#: Option elements whose options' text and description must be plain_text (radio buttons
#: and checkboxes also take mrkdwn).
PLAIN_OPTIONS = frozenset({"static_select", "multi_static_select", "overflow"})
SINGLE_INITIAL = frozenset({"static_select", "radio_buttons"})
MULTI_INITIAL = frozenset({"multi_static_select", "checkboxes"})
WITH_PLACEHOLDER = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "datepicker",
        "timepicker",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
BUTTON_STYLES = frozenset({"primary", "danger"})


def pointer(*parts: str | int) -> str:
    return "/" + "/".join(str(part) for part in parts)


def problem(message: str, *parts: str | int) -> str:
    """One of Slack's validation messages: what is wrong, and where (a JSON pointer)."""
    return f"{message} [json-pointer:{pointer(*parts)}]"


def message_errors(blocks: Any) -> list[str]:
    """What Slack finds wrong with a message's `blocks` (empty when it accepts them)."""
    if not isinstance(blocks, list):
        return [problem("must provide an array", "blocks")]
    checker = _Checker()
    checker.blocks(blocks, MESSAGE_BLOCK_LIMIT, ("blocks",))
    return checker.errors


def view_errors(view: dict[str, Any]) -> list[str]:
    """What Slack finds wrong with a view (home or modal), pointing under `/view`."""
    checker = _Checker()
    checker.view(view)
    return checker.errors


def view_size(view: dict[str, Any]) -> int:
    """A view's size as Slack measures it against its 250 kB: its JSON, in bytes."""
    return len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def truncated_text(text: str) -> str:
    """A message's `text` as Slack keeps it: cut off past 40,000 characters."""
    return text[:MESSAGE_TEXT_LIMIT]


class _Checker:
    """Walks a surface's JSON and collects every problem (Slack lists them all at once)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._block_ids: set[str] = set()

    def fail(self, message: str, *parts: str | int) -> None:
        self.errors.append(problem(message, *parts))

    # --- strings and text objects ---------------------------------------------------------

    def length(self, value: Any, limit: int, *at: str | int, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.fail("must be a string", *at)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", *at)
        elif len(value) < minimum:
            self.fail(f"must be more than {minimum - 1} characters", *at)

    def text(
        self,
        value: Any,
        limit: int,
        *at: str | int,
        plain: bool = False,
        minimum: int = 1,
    ) -> None:
        """A text object: plain_text or mrkdwn (`plain`: plain_text only), 1–`limit`
        characters; `emoji` only on plain_text, `verbatim` only on mrkdwn."""
        if not isinstance(value, dict):
            self.fail("must be a text object", *at)
            return
        kind = value.get("type")
        if kind not in TEXT_TYPES or (plain and kind != "plain_text"):
            allowed = "plain_text" if plain else "plain_text or mrkdwn"
            self.fail(f"must be a valid enum value ({allowed})", *at, "type")
        if "emoji" in value and kind != "plain_text":
            self.fail("`emoji` is only allowed on plain_text", *at, "emoji")
        if "verbatim" in value and kind != "mrkdwn":
            self.fail("`verbatim` is only allowed on mrkdwn", *at, "verbatim")
        if "text" not in value:
            self.fail("missing required field: text", *at)
        else:
            self.length(value["text"], min(limit, TEXT_LIMIT), *at, "text", minimum=minimum)

    def optional_text(self, holder: dict[str, Any], key: str, limit: int, *at: str | int) -> None:
        if key in holder:
            self.text(holder[key], limit, *at, key, plain=True)

    def optional_string(self, holder: dict[str, Any], key: str, limit: int, *at: str | int) -> None:
        if key in holder:
            self.length(holder[key], limit, *at, key)

    def items(
        self, holder: dict[str, Any], key: str, limit: int, *at: str | int, minimum: int = 1
    ) -> list[Any]:
        """A list field of 1–`limit` items (missing: reported when `minimum` > 0)."""
        value = holder.get(key)
        if value is None:
            if minimum:
                self.fail(f"missing required field: {key}", *at)
            return []
        if not isinstance(value, list):
            self.fail("must provide an array", *at, key)
            return []
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", *at, key)
        elif len(value) < minimum:
            self.fail(f"must provide at least {minimum} items", *at, key)
        return value

    # --- surfaces -------------------------------------------------------------------------

    def view(self, view: dict[str, Any]) -> None:
        at = ("view",)
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.fail("must be a valid enum value (modal or home)", *at, "type")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            self.fail("must provide an array", *at, "blocks")
            blocks = []
        else:
            self.blocks(blocks, VIEW_BLOCK_LIMIT, (*at, "blocks"))
        if kind == "modal":
            if "title" not in view:
                self.fail("missing required field: title", *at)
            has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
            if has_inputs and "submit" not in view:
                self.fail("must provide `submit` when the view has input blocks", *at, "submit")
        self.optional_string(view, "private_metadata", PRIVATE_METADATA_LIMIT, *at)
        for key in ("title", "submit", "close"):
            if key in view:
                self.text(view[key], VIEW_LABEL_LIMIT, *at, key, plain=True)
        self.optional_string(view, "callback_id", ID_LIMIT, *at)
        self.optional_string(view, "external_id", ID_LIMIT, *at)

    def blocks(self, blocks: list[Any], limit: int, at: tuple[str, ...]) -> None:
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", *at)
        for index, block in enumerate(blocks):
            if isinstance(block, dict):
                self.block(block, (*at, str(index)))
            else:
                self.fail("must be an object", *at, index)

    def block(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        block_id = block.get("block_id")
        if block_id is not None:
            self.length(block_id, ID_LIMIT, *at, "block_id", minimum=1)
            if block_id in self._block_ids:
                self.fail(f'`block_id` "{block_id}" already exists', *at, "block_id")
            self._block_ids.add(str(block_id))
        check = getattr(self, "block_" + str(block.get("type")), None)
        if check is not None:
            check(block, at)

    def block_section(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        if "text" not in block and "fields" not in block:
            self.fail("must provide `text` or `fields`", *at)
        if "text" in block:
            self.text(block["text"], TEXT_LIMIT, *at, "text")
        fields = self.items(block, "fields", FIELDS_PER_SECTION, *at, minimum=0)
        for index, item in enumerate(fields):
            self.text(item, FIELD_LIMIT, *at, "fields", index)
        if isinstance(block.get("accessory"), dict):
            self.element(block["accessory"], (*at, "accessory"))

    def block_header(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        if "text" not in block:
            self.fail("missing required field: text", *at)
        else:
            self.text(block["text"], HEADER_LIMIT, *at, "text", plain=True)

    def block_context(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        for index, item in enumerate(self.items(block, "elements", CONTEXT_ELEMENTS, *at)):
            if isinstance(item, dict) and item.get("type") == "image":
                self.image(item, (*at, "elements", str(index)))
            else:
                self.text(item, TEXT_LIMIT, *at, "elements", index)

    def block_actions(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for index, element in enumerate(self.items(block, "elements", ACTIONS_ELEMENTS, *at)):
            where = (*at, "elements", str(index))
            if not isinstance(element, dict):
                self.fail("must be an object", *where)
                continue
            self.element(element, where)
            action_id = element.get("action_id")
            if action_id is None:
                continue
            if action_id in seen:
                self.fail(f'`action_id` "{action_id}" already exists', *where, "action_id")
            seen.add(str(action_id))

    def block_input(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        if "label" not in block:
            self.fail("missing required field: label", *at)
        else:
            self.text(block["label"], LABEL_LIMIT, *at, "label", plain=True)
        self.optional_text(block, "hint", LABEL_LIMIT, *at)
        element = block.get("element")
        if not isinstance(element, dict):
            self.fail("missing required field: element", *at)
        else:
            self.element(element, (*at, "element"))

    def block_image(self, block: dict[str, Any], at: tuple[str, ...]) -> None:
        self.image(block, at)
        self.optional_text(block, "title", LABEL_LIMIT, *at)

    # --- elements -------------------------------------------------------------------------

    def image(self, image: dict[str, Any], at: tuple[str, ...]) -> None:
        self.optional_string(image, "image_url", URL_LIMIT, *at)
        self.optional_string(image, "alt_text", IMAGE_ALT_LIMIT, *at)

    def element(self, element: dict[str, Any], at: tuple[str, ...]) -> None:
        kind = element.get("type")
        self.optional_string(element, "action_id", ID_LIMIT, *at)
        if kind in WITH_PLACEHOLDER:
            self.optional_text(element, "placeholder", PLACEHOLDER_LIMIT, *at)
        if kind == "button":
            self.button(element, at)
        elif kind in OPTION_COUNTS:
            self.options(element, str(kind), at)
        elif kind == "plain_text_input":
            self.plain_text_input(element, at)
        elif kind == "image":
            self.image(element, at)

    def button(self, button: dict[str, Any], at: tuple[str, ...]) -> None:
        if "text" not in button:
            self.fail("missing required field: text", *at)
        else:
            self.text(button["text"], BUTTON_TEXT_LIMIT, *at, "text", plain=True)
        self.optional_string(button, "value", BUTTON_VALUE_LIMIT, *at)
        self.optional_string(button, "url", URL_LIMIT, *at)
        if "style" in button and button["style"] not in BUTTON_STYLES:
            self.fail("must be a valid enum value (primary or danger)", *at, "style")

    def options(self, element: dict[str, Any], kind: str, at: tuple[str, ...]) -> None:
        limit = OPTION_COUNTS[kind]
        plain = kind in PLAIN_OPTIONS
        offered: list[Any] = []
        if "option_groups" in element and kind in ("static_select", "multi_static_select"):
            groups = self.items(element, "option_groups", limit, *at)
            for g, group in enumerate(groups):
                where = (*at, "option_groups", str(g))
                if not isinstance(group, dict):
                    self.fail("must be an object", *where)
                    continue
                if "label" in group:
                    self.text(group["label"], OPTION_TEXT_LIMIT, *where, "label", plain=True)
                for o, option in enumerate(self.items(group, "options", limit, *where)):
                    self.option(option, (*where, "options", str(o)), plain=plain)
                    offered.append(option)
        else:
            for o, option in enumerate(self.items(element, "options", limit, *at)):
                self.option(option, (*at, "options", str(o)), plain=plain)
                offered.append(option)
        single = kind in SINGLE_INITIAL and "initial_option" in element
        if single and element["initial_option"] not in offered:
            self.fail("must exactly match one of the options", *at, "initial_option")
        if kind in MULTI_INITIAL and "initial_options" in element:
            initial = element["initial_options"]
            for index, option in enumerate(initial if isinstance(initial, list) else [initial]):
                if option not in offered:
                    self.fail(
                        "must exactly match one of the options", *at, "initial_options", index
                    )

    def option(self, option: Any, at: tuple[str, ...], *, plain: bool) -> None:
        if not isinstance(option, dict):
            self.fail("must be an object", *at)
            return
        if "text" not in option:
            self.fail("missing required field: text", *at)
        else:
            self.text(option["text"], OPTION_TEXT_LIMIT, *at, "text", plain=plain)
        if "value" not in option:
            self.fail("missing required field: value", *at)
        else:
            self.length(option["value"], OPTION_VALUE_LIMIT, *at, "value")
        if "description" in option:
            self.text(
                option["description"], OPTION_DESCRIPTION_LIMIT, *at, "description", plain=plain
            )
        self.optional_string(option, "url", URL_LIMIT, *at)

    def plain_text_input(self, element: dict[str, Any], at: tuple[str, ...]) -> None:
        low, high = element.get("min_length"), element.get("max_length")
        if low is not None and not (isinstance(low, int) and 0 <= low <= INPUT_LENGTH_LIMIT):
            self.fail(f"must be between 0 and {INPUT_LENGTH_LIMIT}", *at, "min_length")
        if high is not None and not (isinstance(high, int) and 1 <= high <= INPUT_LENGTH_LIMIT):
            self.fail(f"must be between 1 and {INPUT_LENGTH_LIMIT}", *at, "max_length")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.fail("must not be more than max_length", *at, "min_length")
