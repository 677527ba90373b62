"""Text as the database keeps it: what people typed, without control characters.

PostgreSQL refuses a NUL in a text column (and neither backend can encode half a surrogate
pair), so a question typed with one would cost its asker a 500; the other control characters
are invisible at best. Every string Eddy writes — a bound parameter of any statement, ORM or
Core, and every string inside a JSON column — passes through `clean_text` on its way in,
whatever path it came by (Slack payloads, modal inputs, content files, the CLI, a migration):
`Store` installs `clean_parameters` on its engine and `dumps_json` as its JSON serializer.

    clean_text("R&D\\x00 team\\r\\nlead")   # "R&D team\\nlead"

Tab and newline stay; a carriage return (alone or before a newline) becomes one newline, the
way a text box on any platform means it.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: C0 controls but tab and newline, DEL, C1 controls, and lone UTF-16 surrogates.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_BREAK = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """`text` without control characters (tab and newline stay; \\r\\n and \\r become \\n)."""
    if text.isprintable():
        return text
    return CONTROL_CHARACTERS.sub("", LINE_BREAK.sub("\n", text))


def clean_value(value: Any) -> Any:
    """A value with every string in it cleaned, however deep in lists and dicts."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_value(item) for item in value)
    return value


def dumps_json(value: Any) -> str:
    """The JSON serializer of Eddy's engines: strings inside JSON columns are cleaned too."""
    return json.dumps(clean_value(value))


def clean_parameters(
    _connection: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """A `before_cursor_execute` listener (retval=True): every string parameter of every
    statement cleaned, for one row or many (a dict, a tuple, or a list of them)."""
    if executemany and isinstance(parameters, list):
        return statement, [clean_value(row) for row in parameters]
    return statement, clean_value(parameters)
