"""Mahalleyar: the neighbourhood requests bot."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
LOCALES_DIR = ROOT / "locales"
