"""Presentation: keyboards, cards, notification texts, typed callback data, dates."""
