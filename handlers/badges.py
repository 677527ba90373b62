"""Reaction badges: the `/badges` command."""

from __future__ import annotations

from slack_bolt import App

from handlers.slash import SlashCommand, not_ready

BADGES = SlashCommand(
    "/badges", "Points and badges for the people whose messages help others.", ("/badges help",)
)

NOT_YET = "Reaction badges are not switched on in this Eddy yet."


def register(app: App) -> None:
    app.command(BADGES.name)(not_ready(BADGES, NOT_YET))
