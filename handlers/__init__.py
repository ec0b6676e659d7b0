"""One module per feature; each exports `HANDLERS` or a `build_…()` that bot/app.py registers."""
