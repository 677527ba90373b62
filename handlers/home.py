"""App Home: what every member sees on Eddy's Home tab, and the community manager's corner."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
)
from slack_sdk.models.views import View

from bot.runtime import Runtime
from handlers import ask, badges, lessons, networks
from handlers.blocks import context, section

COMMANDS = (ask.ASK, lessons.LEARN, networks.EXPERTS, badges.BADGES)


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event: dict[str, Any], client: WebClient, runtime: Runtime) -> None:
    if event.get("tab") != "home":
        return
    user = event["user"]
    client.views_publish(user_id=user, view=home_view(user, runtime.settings.is_manager(user)))


def home_view(user: str, is_manager: bool) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="Eddy"),
        section(
            f"Hi <@{user}>! I'm where your company's know-how gathers. Ask me anything in your "
            "own words, here, in a DM, with `/ask`, or by mentioning @Eddy in a channel."
        ),
        ActionsBlock(
            elements=[ButtonElement(text="Ask Eddy", action_id=ask.OPEN_ASK_MODAL, style="primary")]
        ),
        DividerBlock(),
        section("*What you can do*"),
        *[section(f"`{command.name}` — {command.summary}") for command in COMMANDS],
    ]
    if is_manager:
        blocks += [
            DividerBlock(),
            HeaderBlock(text="Community manager"),
            context("You are a community manager of this Eddy."),
        ]
    return View(type="home", blocks=blocks)
