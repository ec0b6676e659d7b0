"""Settings from the environment and `.env`; one place that knows every variable name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("fa", "en")


class ConfigError(Exception):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    """Every knob of the bot. Names are the environment variables (upper-case)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = Field(default=None, description="Telegram/Bale bot token; "
                                        "empty starts the local sandbox")
    bot_api_base_url: str = Field(default="https://api.telegram.org/bot",
                                  description="Bot API base URL (Bale: https://tapi.bale.ai/bot)")
    bot_api_base_file_url: str | None = Field(default=None,
                                              description="Bot API file URL (derived if empty)")
    database_path: Path = Field(default=Path("mahalleyar.sqlite3"),
                                description="SQLite database file")
    timezone: str = Field(default="Asia/Tehran", description="Time zone users see")
    response_window_hours: int = Field(default=72, ge=1, le=24 * 30,
                                       description="Hours in which a request must be answered")
    reminder_hours: Annotated[list[int], NoDecode] = Field(
        default=[24, 6], description="Reminders this many hours before the deadline")
    second_escalation_hours: int = Field(default=24, ge=1,
                                         description="Hours after breach for the 2nd escalation")
    sla_sweep_seconds: float = Field(default=60.0, gt=0, description="SLA sweep interval")
    digest_time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$",
                             description="Daily digest time (local, HH:MM)")
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default=[], description="Comma-separated Telegram ids of admins")
    admin_chat_id: int | None = Field(default=None,
                                      description="Chat for errors and escalations")
    default_locale: str = Field(default="fa", description="Language when the user has none")
    max_open_tickets: int = Field(default=5, ge=1, description="Open requests per resident")
    flood_messages_per_minute: int = Field(default=20, ge=1,
                                           description="Messages a user may send per minute")
    reopen_days: int = Field(default=14, ge=0, description="Days a closed request can reopen")
    conversation_timeout_minutes: int = Field(default=30, ge=1,
                                              description="Idle minutes before a form ends")
    sandbox_host: str = Field(default="127.0.0.1", description="Sandbox web page address")
    sandbox_port: int = Field(default=8080, ge=0, le=65535, description="Sandbox web page port")
    sandbox_database_path: Path = Field(default=Path("sandbox.sqlite3"),
                                        description="Sandbox database file (separate)")
    log_level: str = Field(default="INFO", description="Logging level")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _split_hours(cls, value: object) -> object:
        return cls._split_ids(value)

    @field_validator("bot_token", mode="before")
    @classmethod
    def _empty_token(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @property
    def sandbox(self) -> bool:
        return self.bot_token is None

    @property
    def file_base_url(self) -> str:
        if self.bot_api_base_file_url:
            return self.bot_api_base_file_url
        base = self.bot_api_base_url
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build settings; turn pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(lines)) from None


def describe_variables() -> str:
    """Help text listing every variable, its default and meaning (for `--help`)."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, list):
            default = ",".join(str(x) for x in default)
        rows.append(f"  {name.upper():<28} {field.description or ''} (default: {default})")
    return "\n".join(rows)
