"""Running the bot as a service: logging, start-up checks, lock, backups, webhook, metrics."""
