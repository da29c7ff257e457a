"""A bad setting stops the start with a message naming it; the CLI says so without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from storefront.cli import app as cli
from storefront.config import Environment, Settings, get_settings

STRONG_SECRET = "kX9-vQ2_mT7zR4wLp8Yh3NcB6jFd0SaE"  # random-looking: 32 characters, 32 distinct


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No `.env` and no inherited setting leaks in; the cached settings are rebuilt."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in Settings.model_fields or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/app.db")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


BAD_VALUES = [
    ({"RATE_LIMIT_LOGIN_ACCOUNT": "lots"}, "rate_limit_login_account"),
    ({"RATE_LIMIT_DEFAULT": "600 per fortnight"}, "rate_limit_default"),
    ({"STORAGE_URL": "ftp://files.example.com/x"}, "storage_url"),
    ({"ACCESS_TOKEN_EXPIRE_MINUTES": "abc"}, "access_token_expire_minutes"),
    ({"ACCESS_TOKEN_EXPIRE_MINUTES": "0"}, "access_token_expire_minutes"),
    ({"DATABASE_URL": "mysql://x"}, "database_url"),
    ({"CORS_ORIGINS": '["*"]'}, "CORS_ORIGINS"),
    ({"CORS_ORIGINS": "not an origin"}, "cors_origins"),
    ({"CORS_ORIGINS": '["https://a.example"'}, "cors_origins"),
    ({"APP_ENV": "production"}, "SECRET_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "change-me"}, "SECRET_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "a" * 64}, "too predictable"),
    ({"APP_ENV": "production", "SECRET_KEY": "abcd" * 16}, "too predictable"),
    ({"APP_ENV": "production", "SECRET_KEY": "changeme-changeme-changeme-changeme"}, "too predictable"),
    ({"APP_ENV": "staging"}, "app_env"),
    ({"LOG_FORMAT": "xml"}, "log_format"),
    ({"MAX_BODY_BYTES": "-5"}, "max_body_bytes"),
    ({"CURRENCY": "euro"}, "currency"),
    ({"PRICES_INCLUDE_TAX": "sometimes"}, "prices_include_tax"),
]


@pytest.mark.parametrize(("env", "named"), BAD_VALUES)
def test_bad_setting_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert named in str(caught.value)


def test_good_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "30")
    monkeypatch.setenv("CORS_ORIGINS", '["https://shop.example.com"]')
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.app_env is Environment.production
    assert settings.access_token_expire_minutes == 30
    assert settings.cors_origins == ["https://shop.example.com"]
    assert settings.log_level == "DEBUG"
    assert settings.show_docs is False
    assert settings.signing_key() == STRONG_SECRET


def test_prices_include_tax_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().prices_include_tax is True
    monkeypatch.setenv("PRICES_INCLUDE_TAX", "false")
    assert Settings().prices_include_tax is False


def test_list_settings_take_json_or_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, http://localhost:3000")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", '["10.0.0.1", "10.0.0.2"]')
    settings = Settings()
    assert settings.cors_origins == ["https://a.example", "http://localhost:3000"]
    assert settings.forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"]


def test_settings_from_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ACCESS_TOKEN_EXPIRE_MINUTES=42\nDOCS_ENABLED=false\n")
    settings = Settings()
    assert settings.access_token_expire_minutes == 42
    assert settings.show_docs is False


def test_docs_default_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().show_docs is True
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    assert Settings().show_docs is False
    monkeypatch.setenv("DOCS_ENABLED", "true")
    assert Settings().show_docs is True


@pytest.mark.parametrize(("env", "named"), BAD_VALUES[:6])
@pytest.mark.parametrize("command", [["db", "current"], ["seed", "--products", "1"], ["openapi"]])
def test_cli_reports_bad_setting_without_traceback(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str, command: list[str]
) -> None:
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 2, result.output
    assert named.upper() in result.stderr
    assert "Configuration error" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not isinstance(result.exception, ValidationError)


def test_serve_with_bad_setting_exits_before_serving(tmp_path: Path) -> None:
    """The installed command, in its own process: a message naming the setting, exit 2, no traceback."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ACCESS_TOKEN_EXPIRE_MINUTES": "abc",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
    }
    storefront = Path(sys.executable).with_name("storefront")
    completed = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(storefront), "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "ACCESS_TOKEN_EXPIRE_MINUTES" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "Uvicorn running" not in completed.stderr
