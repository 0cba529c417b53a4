"""The deploy kit agrees with the code: the image's paths and health port, compose, the unit."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


def _env(dockerfile: str) -> dict[str, str]:
    block = re.search(r"^ENV PATH=.*?(?=^\S)", dockerfile, re.MULTILINE | re.DOTALL)
    assert block is not None
    return dict(re.findall(r"(\w+)=(\S+)", block.group(0)))


def test_the_image_uses_the_volumes_the_health_endpoint_and_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    env = _env(dockerfile)
    assert env["DIGEST_DIR"] == "/digests" and env["DATABASE_PATH"].startswith("/data/")
    assert set(env) - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"} <= set(DEFAULTS)
    assert 'VOLUME ["/data", "/digests"]' in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    healthcheck = re.search(r"^HEALTHCHECK .*\n.*", dockerfile, re.MULTILINE)
    assert healthcheck is not None and "/healthz" in healthcheck.group(0)
    assert "HEALTH_PORT" in healthcheck.group(0) and env["HEALTH_PORT"] == "8080"
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored[:1] == ["*"] and "!bot" in ignored  # no .env, data or .git in the image


def test_compose_runs_the_image_with_env_volumes_and_a_restart_policy() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    env = _env((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert "env_file: .env" in compose and "restart: unless-stopped" in compose
    assert "- digest-data:/data" in compose and ":/digests:ro" in compose
    for key in ("DIGEST_DIR", "DATABASE_PATH", "HEALTH_PORT"):  # .env's must not win
        assert re.search(rf"^\s+{key}: \"?{re.escape(env[key])}\"?$", compose, re.MULTILINE)


def test_the_systemd_unit_is_hardened_and_restarts_on_failure() -> None:
    unit = (ROOT / "deploy" / "digest-bot.service").read_text(encoding="utf-8")
    lines = set(unit.splitlines())
    for line in (
        "User=digest-bot",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/digest-bot",
        "ExecStart=/opt/digest-bot/bin/digest-bot run",
        "RestartPreventExitStatus=2",
    ):
        assert line in lines, line
    timer = (ROOT / "deploy" / "digest-bot-backup.service").read_text(encoding="utf-8")
    assert "digest-bot backup " in timer and "ReadWritePaths=/var/lib/digest-bot" in timer
