"""Configuration errors, --help, and the import-places command, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if k.upper() not in {"BOT_TOKEN", "DATABASE_PATH", "ADMIN_IDS"}}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=60)


@pytest.mark.parametrize(("name", "value"), [
    ("RESPONSE_WINDOW_HOURS", "abc"),
    ("ADMIN_IDS", "x"),
    ("TIMEZONE", "Mars/Olympus"),
    ("DEFAULT_LOCALE", "de"),
    ("WORK_WEEK", "sat-wed 8-16"),
    ("QUIET_HOURS", "21-7"),
    ("RESPONSE_CLOCK", "sundial"),
])
def test_bad_value_is_one_clear_line_and_exit_2(name: str, value: str, tmp_path: Path) -> None:
    result = run_cli(env={name: value}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_parse_lists_and_secret() -> None:
    settings = load_settings(admin_ids="12, 34", bot_token="1:abc", reminder_hours="24,6")
    assert settings.admin_ids == [12, 34]
    assert settings.reminder_hours == [24, 6]
    assert "1:abc" not in repr(settings)
    assert not settings.sandbox
    with pytest.raises(ConfigError, match="RESPONSE_WINDOW_HOURS"):
        load_settings(response_window_hours=0)


def test_bale_base_url_derives_file_url() -> None:
    settings = load_settings(bot_api_base_url="https://tapi.bale.ai/bot")
    assert settings.file_base_url == "https://tapi.bale.ai/file/bot"


def test_help_documents_commands_and_variables(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("import-places", "BOT_TOKEN", "BOT_API_BASE_URL", "RESPONSE_WINDOW_HOURS",
                 "ADMIN_IDS", "DATABASE_PATH"):
        assert word in result.stdout


def _places_csv(path: Path, rows: list[str]) -> Path:
    header = ("province_code,city_code,city_fa,city_en,neighbourhood_code,neighbourhood_fa,"
              "neighbourhood_en,lat,lon,sample")
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_import_with_a_bad_row_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    csv_file = _places_csv(tmp_path / "places.csv", [
        "tehran,pakdasht,پاکدشت,Pakdasht,PKD01,محله یک,Mahalle 1,35.48,51.68,0",
        "tehran,pakdasht,پاکدشت,Pakdasht,PKD02,محله دو,Mahalle 2,not-a-number,51.68,0",
        "nowhere,pakdasht,پاکدشت,Pakdasht,PKD03,محله سه,Mahalle 3,,,0",
    ])
    db = tmp_path / "db.sqlite3"
    result = run_cli("import-places", str(csv_file), env={"DATABASE_PATH": str(db)},
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "lat" in result.stderr
    assert "nothing imported" in result.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM neighbourhoods WHERE code LIKE 'PKD%'"
                            ).fetchone()[0] == 0


def test_import_cross_row_problems_are_reported(tmp_path: Path) -> None:
    csv_file = _places_csv(tmp_path / "places.csv", [
        "tehran,pakdasht,پاکدشت,Pakdasht,PKD01,محله یک,Mahalle 1,,,0",
        "nowhere,pakdasht2,پاکدشت,Pakdasht,PKD01,محله دو,Mahalle 2,,,0",
    ])
    result = run_cli("import-places", str(csv_file),
                     env={"DATABASE_PATH": str(tmp_path / "db.sqlite3")}, cwd=tmp_path)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "unknown province" in result.stderr
    assert "repeats line 2" in result.stderr


def test_import_good_file_then_rerun_is_idempotent(tmp_path: Path) -> None:
    csv_file = _places_csv(tmp_path / "places.csv", [
        "tehran,pakdasht,پاکدشت,Pakdasht,PKD01,محله یک,Mahalle 1,35.48,51.68,0",
        "tehran,pakdasht,پاکدشت,Pakdasht,PKD02,محله دو,Mahalle 2,,,0",
    ])
    env = {"DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    for _ in range(2):
        result = run_cli("import-places", str(csv_file), env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "imported 2" in result.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM neighbourhoods WHERE code LIKE 'PKD%'"
                            ).fetchone()[0] == 2
