"""Sandbox tooling: a local Telegram Bot API emulator so the real bot runs offline."""
