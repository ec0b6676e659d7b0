"""Pure domain logic for Mahalleyar (no Telegram, no SQL)."""
