"""manifest.yml is a valid Slack manifest and matches what the code registers, both ways."""

from __future__ import annotations

import json
import re
from collections import defaultdict

import jsonschema
import pytest
import yaml
from slack_bolt import App

from handlers import create_app
from sandbox.slack import EVENT_SCOPES, Manifest
from sandbox.webapi import METHODS
from tests.conftest import MANIFEST, SHARED
from tests.slack_calls import web_api_methods

SCHEMA = SHARED / "slack" / "manifest.schema.1.0.0.json"
REGISTERING_METHODS = ("command", "event", "action", "view", "shortcut", "options", "message")


@pytest.fixture
def registered(monkeypatch, runtime) -> dict[str, set[str]]:
    """What the app factory registers with Bolt, recorded at Bolt's own registration methods."""
    seen: dict[str, set[str]] = defaultdict(set)
    for kind in REGISTERING_METHODS:
        original = getattr(App, kind)

        def record(self, constraints, *args, _kind=kind, _original=original, **kwargs):
            seen[_kind].add(describe(constraints))
            return _original(self, constraints, *args, **kwargs)

        monkeypatch.setattr(App, kind, record)
    create_app(runtime)
    return seen


def describe(constraints) -> str:
    if isinstance(constraints, dict):
        return constraints.get("type") or constraints.get("callback_id") or str(constraints)
    if isinstance(constraints, re.Pattern):
        return f"re:{constraints.pattern}"
    return str(constraints)


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_the_manifest_validates_against_slacks_schema():
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not here ({SCHEMA}); it ships beside the repo")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest(), schema)


def test_socket_mode_home_and_messages_tabs_are_on():
    data = manifest()
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_read_only_enabled"] is False


def test_every_registered_command_is_in_the_manifest_and_back(registered):
    assert registered["command"] == set(Manifest.load(MANIFEST).commands)
    assert registered["command"] == {"/ask", "/learn", "/experts", "/badges"}


def test_every_registered_event_is_subscribed_and_back(registered):
    subscribed = {event.split(".")[0] for event in Manifest.load(MANIFEST).bot_events}
    assert registered["event"] | registered["message"] == subscribed


def test_every_registered_shortcut_is_in_the_manifest_and_back(registered):
    shortcuts = set(Manifest.load(MANIFEST).shortcuts)
    assert registered["shortcut"] == shortcuts


def test_interactivity_is_on_when_the_code_has_buttons_or_modals(registered):
    interactive = registered["action"] | registered["view"] | registered["shortcut"]
    assert interactive
    assert manifest()["settings"]["interactivity"]["is_enabled"] is True


def test_the_scopes_cover_every_subscribed_event_and_the_commands():
    parsed = Manifest.load(MANIFEST)
    needed = {EVENT_SCOPES[e] for e in parsed.bot_events if e in EVENT_SCOPES}
    if parsed.commands or parsed.shortcuts:
        needed.add("commands")
    assert needed <= parsed.scopes


def test_the_scopes_cover_every_web_api_method_the_code_calls():
    """Each method Eddy calls needs its bot scope (as the stand-in keeps them, checked against
    Slack's spec in test_slack_spec.py); the app-level token's methods need none here."""
    called = web_api_methods()
    needed = {
        method: METHODS[method].scope
        for method in called
        if method in METHODS and METHODS[method].scope and not METHODS[method].app_token
    }
    missing = {
        m: scope for m, scope in needed.items() if scope not in Manifest.load(MANIFEST).scopes
    }
    assert missing == {}
