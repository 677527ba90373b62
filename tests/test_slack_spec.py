"""The stand-in's Web API methods, and every method Eddy calls, against Slack's published Web
API specification (`../shared/slack/web-api.openapi.v2.json`, beside the repository).

The stand-in keeps, for each method it answers, the bot scope and the required arguments from
Slack's method pages (`sandbox.webapi.METHODS`); here they are held to the spec: every
argument the spec requires is required by the stand-in too, every argument the stand-in
requires is one of the method's arguments, and its scope is one the spec lists (a granular
bot scope such as `chat:write` stands for the classic `chat:write:bot` the 2021 spec names).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from sandbox.webapi import METHODS
from tests.conftest import SHARED
from tests.slack_calls import web_api_methods

SPEC = SHARED / "slack" / "web-api.openapi.v2.json"
#: Methods the spec (a 2021 snapshot, see SOURCE.md beside it) lacks, checked against Slack's
#: current method pages instead:
#: - files.getUploadURLExternal and files.completeUploadExternal: the upload flow Slack added
#:   in 2023 (slack_sdk's files_upload_v2), which replaced files.upload;
#: - apps.connections.open: Socket Mode's connection (app-level token, connections:write),
#:   which the snapshot leaves out.
NEWER_THAN_THE_SPEC = frozenset(
    {"files.getUploadURLExternal", "files.completeUploadExternal", "apps.connections.open"}
)


@cache
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(
            f"Slack's Web API spec is not here ({SPEC}); it ships beside the repository in "
            "../shared/slack/"
        )
    return json.loads(SPEC.read_text(encoding="utf-8"))


def operation(method: str) -> dict[str, Any] | None:
    path = spec()["paths"].get("/" + method)
    return next(iter(path.values())) if path else None


def parameters(method: str) -> tuple[set[str], set[str]]:
    """(every argument, the required ones) the spec gives `method`, the token aside."""
    found = operation(method) or {}
    named = {p["name"] for p in found.get("parameters", [])} - {"token"}
    required = {p["name"] for p in found.get("parameters", []) if p.get("required")} - {"token"}
    return named, required


def spec_scopes(method: str) -> set[str]:
    found = operation(method) or {}
    return {scope for need in found.get("security", []) for scope in need.get("slackAuth", [])}


def scope_is_listed(scope: str | None, listed: set[str]) -> bool:
    if scope is None:
        return listed <= {"none"}
    return scope in listed or any(name.startswith(scope + ":") for name in listed)


@pytest.mark.parametrize("method", sorted(set(METHODS) - NEWER_THAN_THE_SPEC))
def test_each_stand_in_method_matches_slacks_spec(method):
    assert operation(method) is not None, f"{method} is not a Web API method in the spec"
    named, required = parameters(method)
    kept = set(METHODS[method].required)
    assert required <= kept, f"the spec requires {sorted(required - kept)} for {method}"
    assert kept <= named, f"{method} has no arguments {sorted(kept - named)} in the spec"
    scope = METHODS[method].scope
    assert scope_is_listed(scope, spec_scopes(method)), (method, scope, spec_scopes(method))


def test_the_methods_newer_than_the_spec_are_really_missing_from_it():
    assert all(operation(method) is None for method in NEWER_THAN_THE_SPEC)


def test_every_method_eddy_calls_is_in_the_spec_or_newer_and_answered_by_the_stand_in():
    called = web_api_methods()
    assert "chat.postMessage" in called and "views.publish" in called  # the scan finds calls
    unknown = {m: files for m, files in called.items() if m not in NEWER_THAN_THE_SPEC}
    unknown = {m: files for m, files in unknown.items() if operation(m) is None}
    assert unknown == {}, "methods Slack does not have"
    assert set(called) <= set(METHODS), "methods the stand-in cannot answer"
