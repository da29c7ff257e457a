"""The `storefront` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape

from storefront.config import Settings, get_settings

app = typer.Typer(help="Storefront: a commerce API on FastAPI.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True)


def _settings() -> Settings:
    """Settings, or a friendly message naming the bad setting and exit 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            err.print(f"[red]Configuration error[/red] in {name}: {escape(error['msg'])}", highlight=False)
        raise typer.Exit(2) from None
    except SettingsError as exc:  # a value pydantic-settings could not even decode
        err.print(f"[red]Configuration error[/red]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def _run(coroutine_fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(coroutine_fn())


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the API with uvicorn (uvloop, httptools)."""
    import uvicorn

    from storefront.events.websocket import MAX_MESSAGE_BYTES
    from storefront.server import StorefrontConfig, run

    settings = _settings()
    if reload:
        # The reloader imports the app by name in a process of its own.
        uvicorn.run("storefront.main:create_app", factory=True, host=host, port=port, reload=True,
                    ws_max_size=MAX_MESSAGE_BYTES)  # fmt: skip
        return
    config = StorefrontConfig(
        header_timeout=settings.http_header_timeout_seconds,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips) or None,
        # No `server: uvicorn` header: it tells an attacker which bugs to try.
        server_header=False,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        timeout_graceful_shutdown=20,
        ws_max_size=MAX_MESSAGE_BYTES,  # uvicorn buffers up to 16 MiB a message by default
        access_log=False,
        log_level=settings.log_level.lower(),
    )
    run(config)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database schema up (to the newest revision by default)."""
    from storefront import migrations

    migrations.upgrade(_settings(), revision)


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Migrate the database schema down (one revision by default)."""
    from storefront import migrations

    migrations.downgrade(_settings(), revision)


@db_app.command("current")
def db_current() -> None:
    """Show the database's current revision."""
    from storefront import migrations

    migrations.current(_settings())


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(prompt=True)],
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an admin account (prompts for what is not given)."""
    from storefront.tasks import create_admin as task

    settings = _settings()
    try:
        user_id = _run(lambda: task(settings, email=email, username=username, password=password))
    except ValueError as exc:
        err.print(f"[red]Could not create the admin:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"Created admin {username} (id {user_id}).")


@app.command()
def seed(
    products: Annotated[int, typer.Option(min=0, max=1_000_000, help="Products to create.")] = 0,
    users: Annotated[int, typer.Option(min=0, max=1_000_000, help="Customers to create.")] = 0,
    orders: Annotated[int, typer.Option(min=0, max=10_000_000, help="Orders to create.")] = 0,
    images: Annotated[bool, typer.Option(help="Give each seeded product a small PNG image.")] = False,
    rules: Annotated[
        bool, typer.Option(help="Add the sample shipping methods, tax rates and discount codes that are missing.")
    ] = True,
) -> None:
    """Fill the database with realistic sample data (customers' password: storefront-demo-password)."""
    from rich.progress import Progress

    from storefront.tasks import seed_orders, seed_products, seed_rules, seed_users

    settings = _settings()
    if not (products or users or orders):
        products = 50
    steps: list[tuple[str, int, Callable[..., Coroutine[Any, Any, None]]]] = [
        ("products", products, partial(seed_products, images=images)),
        ("users", users, seed_users),
        ("orders", orders, seed_orders),
    ]
    with Progress(console=err) as progress:
        for label, count, task in steps:
            if not count:
                continue
            bar = progress.add_task(label, total=count)
            try:
                _run(partial(task, settings, count, partial(progress.advance, bar)))
            except ValueError as exc:
                err.print(f"[red]Could not seed {label}:[/red] {exc}")
                raise typer.Exit(1) from None
    typer.echo(f"Seeded {products} products, {users} users, {orders} orders.")
    if rules:
        added = _run(partial(seed_rules, settings))
        typer.echo(
            f"Checkout rules: {added.shipping_methods} shipping methods, {added.tax_rates} tax rates "
            f"and {added.discounts} discount codes added (those already there are kept)."
        )


@app.command()
def worker(
    status: Annotated[
        bool, typer.Option("--status", help="Print the email queue and the webhook deliveries by state, and exit.")
    ] = False,
) -> None:
    """Deliver queued jobs (emails, webhooks) until SIGTERM/SIGINT; run as many as you like."""
    from storefront.runner import run_worker, show_status

    settings = _settings()
    if status:
        counts = _run(lambda: show_status(settings))
        typer.echo(json.dumps(counts))
        return
    _run(lambda: run_worker(settings))


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from storefront.main import create_app

    document = create_app(_settings().model_copy(update={"docs_enabled": True})).openapi()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def main() -> None:
    """The console entry point: expected failures print one line, not a traceback."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        app()
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        err.print(f"[red]Error:[/red] {type(reason).__name__}: {reason}".splitlines()[0])
        err.print("Check DATABASE_URL (and that the database is running and migrated: storefront db upgrade).")
        raise SystemExit(1) from None
