"""Subject-matter networks: the `/experts` command."""

from __future__ import annotations

from slack_bolt import App

from handlers.slash import SlashCommand, not_ready

EXPERTS = SlashCommand(
    "/experts", "The colleagues who answer what the knowledge index can't.", ("/experts help",)
)

NOT_YET = "Subject-matter networks are not switched on in this Eddy yet."


def register(app: App) -> None:
    app.command(EXPERTS.name)(not_ready(EXPERTS, NOT_YET))
