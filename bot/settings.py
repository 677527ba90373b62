"""Eddy's settings: read once from the environment and `.env`, validated at start.

Every setting is named in the contract (DESIGN.md) and documented in `.env.example`. A missing
or malformed value stops Eddy with one sentence that names the variable and says what to do,
never a traceback: `load_settings()` raises `SettingsError` carrying that sentence.

    settings = load_settings()            # reads .env in the working directory, then the env
    settings.require_slack_http()         # raises SettingsError if HTTP mode cannot start
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/eddy.db"
#: The content Eddy ships with, wherever Eddy is started from.
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
SLACK_API_DEFAULT = "https://slack.com/api/"
#: Never repeated in messages or logs (DATABASE_URL and EDDY_LRS_URL may hold a password).
SECRET_VARIABLES = {
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "DATABASE_URL",
    "EDDY_LRS_URL",
    "EDDY_LRS_PASSWORD",
}
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

#: What to tell the operator for each variable that fails validation.
ADVICE: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-…) from your Slack app's "
    "OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your Slack app's Basic "
    "Information page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-…) with the connections:write scope, "
    "or leave it empty to use HTTP mode",
    "SLACK_API_URL": "set it to an http(s) URL such as https://slack.com/api/, or leave it empty",
    "DATABASE_URL": "set it to a SQLAlchemy URL such as sqlite:///data/eddy.db or "
    "postgresql://user:password@host/eddy, or leave it empty for the default SQLite file",
    "EDDY_CONTENT_DIR": "set it to the folder that holds Eddy's content, or leave it empty for "
    "./content",
    "EDDY_MANAGERS": "set it to comma-separated Slack user IDs such as U012ABCDEF,U034GHIJKL",
    "PORT": "set it to a whole number between 1 and 65535",
    "EDDY_ADMINS_ARE_MANAGERS": "set it to true or false",
    "EDDY_REVIEW_AFTER_DAYS": "set it to a whole number of days between 1 and 3650",
    "EDDY_LESSON_REMINDERS": "set it to a whole number between 0 (no reminders) and 3",
    "EDDY_LESSON_WINDOW_HOURS": "set it to a whole number of hours between 1 and 16",
    "EDDY_PAUSE_AFTER_UNANSWERED": "set it to a whole number of lessons between 1 and 14",
    "EDDY_LOG_LEVEL": "set it to DEBUG, INFO, WARNING or ERROR",
    "EDDY_LRS_URL": "set it to your Learning Record Store's xAPI endpoint, such as "
    "https://lrs.example.com/xapi/, or leave it empty to send nothing",
    "EDDY_CLOCK": "set it to an ISO-8601 instant such as 2026-03-04T10:00:00Z, or leave it "
    "empty (the normal case) for the real time",
}


class SettingsError(Exception):
    """A setting is missing or malformed; `str(error)` is the one sentence to show."""


class Settings(BaseSettings):
    """The validated settings. Field names map to the upper-case variables of the contract."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_API_DEFAULT
    database_url: str = DEFAULT_DATABASE_URL
    eddy_content_dir: Path = DEFAULT_CONTENT_DIR
    eddy_managers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    port: int = Field(default=3000, ge=1, le=65535)
    #: Workspace admins and owners count as community managers too.
    eddy_admins_are_managers: bool = False
    #: An entry not reviewed for this many days goes to the review queue; its owner is reminded.
    eddy_review_after_days: int = Field(default=90, ge=1, le=3650)
    #: Reminders of a scheduled lesson left unanswered, at most (0: none).
    eddy_lesson_reminders: int = Field(default=1, ge=0, le=3)
    #: A person's lesson window: from their lesson time, this many hours of that day.
    eddy_lesson_window_hours: int = Field(default=8, ge=1, le=16)
    #: Lessons pause when this many scheduled lessons in a row went unanswered.
    eddy_pause_after_unanswered: int = Field(default=3, ge=1, le=14)
    eddy_log_level: str = "INFO"
    #: The Learning Record Store's xAPI endpoint (empty: statements are not forwarded).
    eddy_lrs_url: str = ""
    #: HTTP Basic credentials for the LRS (its key and secret), both or neither.
    eddy_lrs_username: str = ""
    eddy_lrs_password: SecretStr = SecretStr("")
    #: Pins Eddy's clock at this instant (tests, benchmarks, demonstrations); None: real time.
    eddy_clock: datetime | None = None

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_api_url",
        "database_url",
        "eddy_lrs_url",
        "eddy_lrs_username",
        "eddy_lrs_password",
        mode="before",
    )
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str) -> str:
        if value and not value.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("slack_api_url", "eddy_lrs_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        """A base URL that others hang off (`…/chat.postMessage`, `…/statements`), so it ends
        with a slash. An empty Slack API URL is Slack's own; an empty LRS URL turns
        forwarding off."""
        if not value:
            return SLACK_API_DEFAULT if info.field_name == "slack_api_url" else ""
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _lrs_credentials_go_together(self) -> Settings:
        """A key without its secret (or the reverse) is a half-done setup: say so at start,
        not with a 401 from the LRS later."""
        has_username = bool(self.eddy_lrs_username)
        has_password = bool(self.eddy_lrs_password.get_secret_value())
        if has_username != has_password:
            missing = "EDDY_LRS_PASSWORD" if has_username else "EDDY_LRS_USERNAME"
            raise ValueError(
                f"{missing} is not set: EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD go together, so "
                "set both to your LRS's key and secret, or leave both empty"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return DEFAULT_DATABASE_URL
        if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", value):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("eddy_content_dir", mode="before")
    @classmethod
    def _content_dir(cls, value: Any) -> Any:
        return value or DEFAULT_CONTENT_DIR

    @field_validator("eddy_managers", mode="before")
    @classmethod
    def _managers(cls, value: Any) -> list[str]:
        if isinstance(value, list):
            ids = [str(item).strip() for item in value]
        else:
            ids = [part.strip() for part in str(value or "").split(",")]
        ids = [user_id for user_id in ids if user_id]
        bad = [user_id for user_id in ids if not USER_ID.match(user_id)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a Slack user ID")
        return ids

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> Any:
        return 3000 if value in ("", None) else value

    @field_validator(
        "eddy_admins_are_managers",
        "eddy_review_after_days",
        "eddy_lesson_reminders",
        "eddy_lesson_window_hours",
        "eddy_pause_after_unanswered",
        mode="before",
    )
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value not in ("", None):
            return value
        return cls.model_fields[info.field_name or ""].default

    @field_validator("eddy_clock", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> datetime | None:
        """An instant to pin the clock at; one without an offset is read as UTC."""
        if value in ("", None):
            return None
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)

    @field_validator("eddy_log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> str:
        level = str(value or "INFO").strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("unknown log level")
        return level

    @property
    def forwards_to_lrs(self) -> bool:
        """Statements go to a Learning Record Store (EDDY_LRS_URL is set)."""
        return bool(self.eddy_lrs_url)

    @property
    def lesson_window(self) -> timedelta:
        """How long after their lesson time a person may be reminded of it that day."""
        return timedelta(hours=self.eddy_lesson_window_hours)

    def require_slack_http(self) -> None:
        """Raise `SettingsError` unless the bot token and signing secret are both set."""
        require(("SLACK_BOT_TOKEN", self.slack_bot_token))
        require(("SLACK_SIGNING_SECRET", self.slack_signing_secret))

    def require_socket_mode(self) -> None:
        """Raise `SettingsError` unless Socket Mode has its app token and a bot token."""
        require(("SLACK_APP_TOKEN", self.slack_app_token))
        require(("SLACK_BOT_TOKEN", self.slack_bot_token))

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.eddy_managers


def require(setting: tuple[str, str]) -> None:
    name, value = setting
    if not value:
        raise SettingsError(f"{name} is not set: {ADVICE[name]} (in .env or the environment).")


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Read and validate the settings; raise `SettingsError` with one sentence on a bad value.

    `overrides` take precedence over the environment (the console and tests use them).
    """
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        first = error.errors()[0]
        if not first["loc"] and first["type"] == "value_error":
            # A rule about several settings at once (a model validator) names them itself.
            sentence = first["msg"].removeprefix("Value error, ")
            raise SettingsError(f"{sentence} (in .env or the environment).") from None
        field = str(first["loc"][0]) if first["loc"] else "settings"
        variable = field.upper()
        raw = first.get("input")
        visible = variable not in SECRET_VARIABLES and isinstance(raw, str | int) and raw != ""
        shown = f" (got {raw!r})" if visible else ""
        # Our own validators explain themselves; pydantic's type errors add nothing to the advice.
        own = first["type"] == "value_error"
        reason = first["msg"].removeprefix("Value error, ") + "; " if own else ""
        advice = ADVICE.get(variable, "check its value")
        raise SettingsError(
            f"{variable} is not valid{shown}: {reason}{advice} (in .env or the environment)."
        ) from None
