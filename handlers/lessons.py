"""Micro-lessons: the `/learn` command."""

from __future__ import annotations

from slack_bolt import App

from handlers.slash import SlashCommand, not_ready

LEARN = SlashCommand(
    "/learn", "Short daily lessons from learning paths, with a one-tap quiz.", ("/learn help",)
)

NOT_YET = "Micro-lessons are not switched on in this Eddy yet."


def register(app: App) -> None:
    app.command(LEARN.name)(not_ready(LEARN, NOT_YET))
