"""Settings: parsing, validation, the secret token, and the docs listing every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import DEFAULTS, Secret, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_need_no_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert settings.digest_dir == Path("seeds")
    assert settings.database_path == Path("data/digest.db")
    assert settings.index_dir == Path("data/index")
    assert not settings.discord_token
    assert settings.owner_ids == frozenset()
    assert settings.reindex_interval_min == 0
    assert (settings.cooldown_commands, settings.cooldown_seconds) == (5, 10)


def test_environment_overrides_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nDIGEST_DIR=file-dir\nOWNER_IDS=1, 2\n")
    settings = Settings.from_env({"DIGEST_DIR": "env-dir"}, env_file=env_file)
    assert settings.discord_token.reveal() == "from-file"
    assert settings.digest_dir == Path("env-dir")
    assert settings.owner_ids == frozenset({1, 2})


def test_index_dir_follows_database(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATABASE_PATH": "/srv/bot/db.sqlite"}, env_file=None)
    assert settings.index_dir == Path("/srv/bot/index")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OWNER_IDS", "12,abc"),
        ("DEV_GUILD_ID", "guild"),
        ("REINDEX_INTERVAL", "-1"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_SUBSCRIPTIONS_PER_CHANNEL", "0"),
        ("COOLDOWN_COMMANDS", "-1"),
        ("COOLDOWN_SECONDS", "ten"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value}, env_file=None)


def test_secret_never_prints() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "MTIz.abc.def"}, env_file=None)
    assert "MTIz" not in repr(settings)
    assert "MTIz" not in str(settings.discord_token)
    assert "MTIz" not in f"{settings.discord_token}"
    assert settings.discord_token.reveal() == "MTIz.abc.def"
    assert not Secret("")


def test_env_example_and_readme_list_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    example_keys = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    assert example_keys == set(DEFAULTS)
    readme = (ROOT / "README.md").read_text()
    for key in DEFAULTS:
        assert f"`{key}`" in readme, key


def test_digest_reading_limits(tmp_path: Path) -> None:
    defaults = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert defaults.max_digest_bytes == 64 * 1024 * 1024 == int(DEFAULTS["MAX_DIGEST_BYTES"][0])
    assert defaults.follow_symlinks is False
    custom = Settings.from_env(
        {"MAX_DIGEST_BYTES": "1000", "FOLLOW_SYMLINKS": "1"}, env_file=tmp_path / "missing.env"
    )
    assert (custom.max_digest_bytes, custom.follow_symlinks) == (1000, True)
    bad = (("MAX_DIGEST_BYTES", "0"), ("MAX_DIGEST_BYTES", "64M"), ("FOLLOW_SYMLINKS", "maybe"))
    for name, value in bad:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value}, env_file=None)


def test_index_dir_must_be_a_folder_of_its_own(tmp_path: Path) -> None:
    from bot.core.saved_index import MARKER
    from bot.settings import check_index_dir

    digests = tmp_path / "digests"
    digests.mkdir()
    (digests / "a.txt").write_text("x")
    data = tmp_path / "data"

    def settings(index_dir: Path) -> Settings:
        return Settings(digest_dir=digests, database_path=data / "digest.db", index_dir=index_dir)

    (tmp_path / "link").symlink_to(digests)
    refused = {
        digests: "is the digest folder",
        tmp_path / "link": "is the digest folder",
        tmp_path: "holds the database",  # and the digests
        data: "holds the database",
        data / "digest.db": "is a file of the database",
        data / "digest.db-journal": "is a file of the database",
    }
    for index_dir, reason in refused.items():
        with pytest.raises(SettingsError, match=reason):
            check_index_dir(settings(index_dir))
    # a fresh folder, an empty one and one digest-bot marked are fine; they are not created
    check_index_dir(settings(data / "index"))
    check_index_dir(settings(digests / "index"))  # e.g. DIGEST_DIR=. with data/ inside
    assert not data.exists() and not (digests / "index").exists()
    (tmp_path / "empty").mkdir()
    check_index_dir(settings(tmp_path / "empty"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / MARKER).write_text("{}")
    (mine / "notes.md").write_text("kept")
    check_index_dir(settings(mine))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.md").write_text("x")
    with pytest.raises(SettingsError, match=r"INDEX_DIR .*other is not empty .* notes\.md"):
        check_index_dir(settings(tmp_path / "other"))


def test_rank_bm25_is_imported_only_by_the_tests_and_the_benchmark() -> None:
    """rank-bm25 is the reference the index is tested against, not part of the bot: importing
    every module of the bot (the benchmark's modules import it lazily, when they run) leaves
    it unimported."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'rank_bm25'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
