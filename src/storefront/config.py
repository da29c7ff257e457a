"""Settings: the one place configuration is read (environment or `.env`)."""

from __future__ import annotations

import json
import math
import re
import secrets
from collections import Counter
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")
_ORIGIN = re.compile(r"^https?://[^\s/?#]+$")
_MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_TRUSTED_HOST = re.compile(r"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$")
_PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


def _weak_secret(key: str) -> str | None:
    """Why `key` cannot sign tokens in production, or None.

    Length alone is no strength: 32 copies of one character are 32 characters.
    A key must also use at least 10 distinct characters and carry at least 3
    bits per character by its own letter frequencies (hex from a random
    source carries about 3.7, `token_urlsafe` about 5).
    """
    if key.lower() in _PLACEHOLDER_SECRETS or len(key) < 32:
        return "required in production, at least 32 characters"
    counts = Counter(key)
    bits = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    if len(counts) < 10 or bits < 3:
        return "too predictable (repeated or few distinct characters); use a random key"
    return None


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class PaymentProviderName(StrEnum):
    """Who takes the payments of a deployment (`PAYMENT_PROVIDER`)."""

    manual = "manual"  # bank transfer or cash on delivery: staff record the payment
    stripe = "stripe"  # cards through Stripe: its webhook records the payment


# What `MANUAL_PAYMENT_INSTRUCTIONS` may name, with an example of each (the check at start-up uses them).
MANUAL_PAYMENT_PLACEHOLDERS = {
    "order_id": 42,
    "reference": "ORDER-42",
    "amount": "129.90",
    "currency": "EUR",
    "due_date": "2026-12-10",
}
DEFAULT_MANUAL_PAYMENT_INSTRUCTIONS = (
    "Please pay {amount} {currency} by bank transfer by {due_date}, quoting {reference} "
    "(your order number #{order_id}) as the payment reference. Orders unpaid by then are cancelled."
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: Environment = Environment.development
    app_name: str = "Storefront"
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR}/storefront.db"
    redis_url: str | None = None
    secret_key: str = ""
    access_token_expire_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(14, ge=1, le=365)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    cors_origins: Annotated[list[str], NoDecode] = []
    docs_enabled: bool | None = None
    smtp_url: str | None = None
    mail_from: str = "Storefront <no-reply@storefront.local>"
    storage_url: str = Field(default_factory=lambda: f"file://{VAR_DIR.resolve()}/uploads")
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    # Prices (and shipping) include tax, which checkout shows as the part of the
    # total that is tax; false: tax is added on top (`storefront.pricing`).
    prices_include_tax: bool = True
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    # Slow clients: a request's headers must arrive within this many seconds
    # (slowloris), and an idle keep-alive connection closes after the other.
    http_header_timeout_seconds: float = Field(10.0, gt=0, le=300)
    http_keep_alive_seconds: int = Field(5, ge=1, le=300)
    rate_limits_enabled: bool = True
    rate_limit_login_account: str = "5/15 minutes"
    rate_limit_login_address: str = "100/15 minutes"
    rate_limit_register: str = "20/hour"
    rate_limit_password_reset: str = "5/hour"
    rate_limit_default: str | None = None
    rate_limit_refresh: str | None = "60/minute"
    hsts: bool = False
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "storefront"
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "console"
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_pool_timeout: float = Field(30.0, gt=0)
    db_echo: bool = False
    mail_dir: Path = VAR_DIR / "mail"
    email_max_attempts: int = Field(8, ge=1, le=50)
    email_retry_base_seconds: float = Field(5.0, gt=0, le=3600)
    smtp_timeout_seconds: float = Field(30.0, gt=0, le=600)
    worker_embedded: bool = True
    worker_poll_seconds: float = Field(1.0, gt=0, le=60)
    worker_lease_seconds: int = Field(120, ge=5, le=3600)
    worker_batch_size: int = Field(20, ge=1, le=1000)
    retention_days: int = Field(30, ge=1, le=3650)
    stream_max_per_user: int = Field(5, ge=1, le=1000)
    product_cache_seconds: float = Field(30.0, ge=0, le=3600)
    stock_low_threshold: int = Field(5, ge=0, le=1_000_000)
    cart_ttl_days: int = Field(30, ge=1, le=3650)
    # Payments
    payment_provider: PaymentProviderName = PaymentProviderName.manual
    manual_payment_days: int = Field(7, ge=1, le=365)
    manual_payment_instructions: str = Field(DEFAULT_MANUAL_PAYMENT_INSTRUCTIONS, min_length=1, max_length=2000)
    card_payment_minutes: int = Field(30, ge=1, le=7 * 24 * 60)  # a card order unpaid this long is cancelled
    stripe_api_key: SecretStr | None = None  # sk_live_... or sk_test_...
    stripe_webhook_secret: SecretStr | None = None  # whsec_..., the webhook endpoint's signing secret
    stripe_api_base: str = Field("https://api.stripe.com", pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    # One Stripe call's connect and read limit, and how often the SDK retries a network error,
    # a 409 or a 5xx (with the same idempotency key, after 0.5 s, 1 s, ...; `docs/payments.md`).
    stripe_timeout_seconds: float = Field(10.0, gt=0, le=60)
    stripe_max_network_retries: int = Field(2, ge=0, le=5)
    # Outbound webhooks (`docs/webhooks.md`)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)  # one attempt, connection to last byte
    webhook_max_attempts: int = Field(8, ge=1, le=50)
    # The first retry's delay; each next one is 4 times longer (at most 6 h), with +-25% jitter.
    webhook_retry_base_seconds: float = Field(30.0, gt=0, le=3600)
    webhook_disable_after: int = Field(20, ge=1, le=10_000)  # failed attempts in a row
    webhook_concurrency: int = Field(16, ge=1, le=1000)  # attempts in flight per worker process
    webhook_concurrency_per_endpoint: int = Field(2, ge=1, le=100)  # of those, to one endpoint
    # Development and tests only: `http://` and private, loopback and link-local addresses accepted.
    webhook_allow_private: bool = False
    # Trusted hosts
    # Host names this app answers for (`*.example.com` for its subdomains); empty: any.
    trusted_hosts: Annotated[list[str], NoDecode] = []
    # WebSocket limits
    ws_max_per_address: int = Field(20, ge=1, le=10_000)  # open WebSockets and SSE streams per client address

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("cors_origins", "forwarded_allow_ips", "trusted_hosts", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        """A JSON list or a comma-separated string (`https://a.example,https://b.example`)."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("not a valid JSON list") from None
        return [item.strip() for item in value.split(",") if item.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = [host.lower() for host in value]
        for host in hosts:
            if not _TRUSTED_HOST.match(host):
                raise ValueError(f"{host!r} is not a host name or *.domain (no scheme, no port)")
        return hosts

    @field_validator(
        "rate_limit_login_account",
        "rate_limit_login_address",
        "rate_limit_register",
        "rate_limit_password_reset",
        "rate_limit_default",
        "rate_limit_refresh",
    )
    @classmethod
    def _limit_notation(cls, value: str | None) -> str | None:
        if value:
            from limits import parse

            try:
                parse(value)
            except ValueError:
                raise ValueError("must be in the limits notation, e.g. 5/15 minutes or 600/minute") from None
        return value

    @field_validator("manual_payment_instructions")
    @classmethod
    def _instructions(cls, value: str) -> str:
        """Only the known placeholders, each in braces: a typo stops the start, not an order."""
        try:
            value.format(**MANUAL_PAYMENT_PLACEHOLDERS)
        except (KeyError, IndexError, ValueError) as exc:
            known = ", ".join(f"{{{name}}}" for name in MANUAL_PAYMENT_PLACEHOLDERS)
            raise ValueError(
                f"not a template ({exc!s}): the placeholders are {known}, `{{{{` and `}}}}` braces"
            ) from None
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_scheme(cls, value: str) -> str:
        if not value.startswith(("file:///", "s3://")):
            raise ValueError("must be file:///absolute/path or s3://bucket[/prefix]")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _safe_defaults(self) -> Settings:
        if "*" in self.cors_origins:
            # A wildcard origin with credentials lets any site act as the user.
            raise ValueError("CORS_ORIGINS: a wildcard is refused because credentials are allowed")
        if self.app_env is Environment.production and (problem := _weak_secret(self.secret_key)):
            raise ValueError(f"SECRET_KEY: {problem} (make one: {_MAKE_SECRET})")
        if self.payment_provider is PaymentProviderName.stripe and not (
            self.stripe_api_key and self.stripe_webhook_secret
        ):
            raise ValueError("PAYMENT_PROVIDER=stripe needs STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def show_docs(self) -> bool:
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.app_env is not Environment.production

    def signing_key(self) -> str:
        """The JWT key: configured, or made once and kept in `var/` outside production."""
        if self.secret_key:
            return self.secret_key
        return _development_secret()


@lru_cache
def _development_secret() -> str:
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
