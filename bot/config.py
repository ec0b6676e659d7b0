"""Settings from the environment and `.env`; one place that knows every variable name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.workcal import (
    DEFAULT_QUIET_HOURS,
    DEFAULT_WORK_WEEK,
    CalendarError,
    QuietHours,
    WorkWeek,
)
from storage.url import DatabaseUrl, DatabaseUrlError, parse_database_url

SUPPORTED_LOCALES = ("fa", "en")
OFFICIAL_API_HOSTS = ("api.telegram.org", "tapi.bale.ai")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    database_url: SecretStr | None = Field(
        default=None, description="sqlite:///relative/path, sqlite:////absolute/path or "
        "postgresql://user:password@host:port/db (empty = sqlite:/// of DATABASE_PATH)")
    failover_seconds: float = Field(
        default=15.0, ge=3.0, le=600.0,
        description="PostgreSQL: a standby takes over within this many seconds when the "
                    "leader's machine vanishes (lease renewed every third of it)")
    timezone: str = Field(default="Asia/Tehran", description="Time zone users see")
    response_window_hours: int = Field(default=72, ge=1, le=24 * 30,
                                       description="Hours in which a request must be answered")
    reminder_hours: Annotated[list[int], NoDecode] = Field(
        default=[24, 6], description="Reminders this many hours before the deadline")
    second_escalation_hours: int = Field(default=24, ge=1,
                                         description="Hours after breach for the 2nd escalation")
    sla_sweep_seconds: float = Field(default=60.0, gt=0, description="SLA sweep interval")
    digest_time: str = Field(default="08:00", description="Daily digest time (local, HH:MM)")
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default=[], description="Comma-separated Telegram ids of admins")
    admin_chat_id: int | None = Field(default=None,
                                      description="Chat for errors and escalations")
    default_locale: str = Field(default="fa", description="Language when the user has none")
    max_open_tickets: int = Field(default=5, ge=1, description="Open requests per resident")
    flood_messages_per_minute: int = Field(default=20, ge=1,
                                           description="Messages a user may send per minute")
    reopen_days: int = Field(default=14, ge=0, description="Days a closed request can reopen")
    retention_days: int = Field(default=730, ge=1,
                                description="Days after closing before a request is "
                                            "anonymised")
    conversation_timeout_minutes: int = Field(default=30, ge=1,
                                              description="Idle minutes before a form ends")
    sandbox_host: str = Field(default="127.0.0.1", description="Sandbox web page address")
    sandbox_port: int = Field(default=8080, ge=0, le=65535, description="Sandbox web page port")
    sandbox_database_path: Path = Field(default=Path("sandbox.sqlite3"),
                                        description="Sandbox database file (separate)")
    log_level: str = Field(default="INFO", description="Logging level (DEBUG, INFO, WARNING, "
                           "ERROR, CRITICAL)")
    webhook_url: str | None = Field(default=None, description="Public HTTPS URL Telegram posts "
                                    "updates to; set = webhook mode instead of polling")
    webhook_listen: str = Field(default="0.0.0.0", description="Address the webhook server "
                                "listens on")
    webhook_port: int = Field(default=8443, ge=1, le=65535,
                              description="Port the webhook server listens on")
    webhook_secret: SecretStr | None = Field(default=None, description="Secret Telegram sends "
                                             "with each update (1-256 of A-Z a-z 0-9 _ -)")
    metrics_port: int | None = Field(default=None, ge=1, le=65535,
                                     description="Prometheus metrics port (empty = off)")
    metrics_host: str = Field(default="127.0.0.1", description="Metrics endpoint address")
    backup_dir: Path | None = Field(default=None, description="Folder for the daily automatic "
                                    "backup (empty = off)")
    backup_keep: int = Field(default=7, ge=1, le=3650,
                             description="Daily backups kept in BACKUP_DIR")
    backup_time: str = Field(default="03:30", description="Daily backup time (local, HH:MM)")

    # --- working calendar (issue 12): the clock modes, office hours, quiet hours, urgency ---
    response_clock: Literal["calendar", "office"] = Field(
        default="calendar", description="calendar: RESPONSE_WINDOW_HOURS of wall time; "
        "office: RESPONSE_WINDOW_OFFICE_HOURS counted inside office hours only")
    response_window_office_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="Office hours to answer (office mode)")
    urgent_window_hours: int = Field(default=24, ge=1, le=24 * 30,
                                     description="Hours to answer an urgent request (wall time)")
    work_week: str = Field(default=DEFAULT_WORK_WEEK,
                           description="Office hours: DAYS HH:MM-HH:MM; ... (days not named "
                           "are off; dated changes go in data/office-hours.csv)")
    quiet_hours: str = Field(default=DEFAULT_QUIET_HOURS,
                             description="Local span in which staff and mayors are not pinged "
                             "(urgent escalations excepted); 'off' for none")

    @field_validator("work_week")
    @classmethod
    def _valid_week(cls, value: str) -> str:
        try:
            WorkWeek.parse(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet(cls, value: str) -> str:
        try:
            QuietHours.parse(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def week(self) -> WorkWeek:
        return WorkWeek.parse(self.work_week)

    @property
    def quiet(self) -> QuietHours | None:
        return QuietHours.parse(self.quiet_hours)
    # --- end of the working calendar's settings ---

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

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("digest_time", "backup_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError("must be a time of day HH:MM (00:00-23:59)")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("webhook_url", "bot_api_base_file_url", "metrics_port", "backup_dir",
                     "admin_chat_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("bot_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://\S+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_token(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
                raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_https(self) -> Settings:
        """Telegram's and Bale's servers post only to HTTPS; a self-hosted Bot API server
        (any other BOT_API_BASE_URL) may post to plain http on a private network."""
        official = any(host in self.bot_api_base_url for host in OFFICIAL_API_HOSTS)
        if self.webhook_url and official and not self.webhook_url.startswith("https://"):
            raise ValueError("WEBHOOK_URL: must be an https:// URL (Telegram posts only to "
                             "HTTPS, on port 443, 80, 88 or 8443)")
        return self

    @model_validator(mode="after")
    def _reminders_inside_window(self) -> Settings:
        window = self.response_window_hours
        for hours in self.reminder_hours:
            if not 1 <= hours < window:
                raise ValueError(f"REMINDER_HOURS: {hours} is outside 1..{window - 1} "
                                 f"(hours before the {window}-hour RESPONSE_WINDOW_HOURS ends)")
        return self

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                parse_database_url(value)
            except DatabaseUrlError as exc:     # its message never holds the password
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _database_from_url(self) -> Settings:
        """A sqlite:/// DATABASE_URL is the DATABASE_PATH every file-based feature (lock,
        backup, heartbeat) uses."""
        url = self.database
        if url.dialect == "sqlite" and url.path != ":memory:":
            self.database_path = Path(url.path)
        return self

    @property
    def database(self) -> DatabaseUrl:
        """The parsed DATABASE_URL (default: the SQLite file DATABASE_PATH)."""
        if self.database_url is None:
            return DatabaseUrl("sqlite", path=str(self.database_path))
        return parse_database_url(self.database_url.get_secret_value())

    @property
    def database_variable(self) -> str:
        """The variable that named the database (for error lines)."""
        return "DATABASE_PATH" if self.database_url is None else "DATABASE_URL"

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
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["loc"]:
                lines.append(f"{str(err['loc'][0]).upper()}: {message}")
            else:  # a check across variables names them itself
                lines.append(message)
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
