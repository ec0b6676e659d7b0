"""Mahalleyar: the neighbourhood requests bot."""

from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _resource_dir(packaged: str, source: str) -> Path:
    """`data/` and `locales/` are top-level folders of the repository; a built wheel carries
    them inside the package as `bot/_data` and `bot/_locales` (pyproject.toml maps them)."""
    inside = resources.files("bot").joinpath(packaged)
    if inside.is_dir():
        return Path(str(inside))
    return ROOT / source


DATA_DIR = _resource_dir("_data", "data")
LOCALES_DIR = _resource_dir("_locales", "locales")
