"""Which Slack Web API methods Eddy's own code calls, read from its source.

Every call on a Web API client (`client.chat_postMessage(...)`, `self.client.views_open(...)`)
in app.py, handlers/ and bot/ (the stand-in aside) is mapped to the method slack_sdk's
`WebClient` sends for it; a helper such as `files_upload_v2` counts as the methods it calls.
Socket Mode adds `apps.connections.open`, which slack_sdk's Socket Mode client calls.

    web_api_methods()   # {"chat.postMessage": {"handlers/ask.py", …}, …}
"""

from __future__ import annotations

import ast
import inspect
import re
from functools import cache
from pathlib import Path

from slack_sdk import WebClient

from tests.conftest import ROOT

SOURCES = ("app.py", "handlers", "bot")
SKIPPED = ("sandbox",)
API_CALL = re.compile(r"""api_call\(\s*["']([a-zA-Z.]+)["']""")
HELPER_CALL = re.compile(r"self\.([a-zA-Z_]+)\(")
SOCKET_MODE = "apps.connections.open"


def source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        found = ROOT / name
        files += [found] if found.is_file() else sorted(found.rglob("*.py"))
    return [f for f in files if not str(f.relative_to(ROOT)).startswith(SKIPPED)]


@cache
def methods_of(client_method: str) -> frozenset[str]:
    """The Web API methods a `WebClient` method sends (following its own helper calls)."""
    function = getattr(WebClient, client_method, None)
    if function is None or not callable(function):
        return frozenset()
    source = inspect.getsource(function)
    found = set(API_CALL.findall(source))
    for helper in HELPER_CALL.findall(source):
        if helper != client_method and not helper.startswith("_"):
            found |= methods_of(helper)
    return frozenset(found)


def _receiver_is_a_client(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return isinstance(name, str) and name.endswith("client")


def web_api_methods() -> dict[str, set[str]]:
    """Each Web API method Eddy's code calls, with the files that call it."""
    called: dict[str, set[str]] = {}
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and _receiver_is_a_client(node.func.value)
            ):
                for method in methods_of(node.func.attr):
                    called.setdefault(method, set()).add(relative)
            if isinstance(node, ast.Name) and node.id == "SocketModeHandler":
                called.setdefault(SOCKET_MODE, set()).add(relative)
    return called
