"""The `storefront` command line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

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
            err.print(f"[red]Configuration error[/red] in {name}: {error['msg']}")
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

    settings = _settings()
    uvicorn.run(
        "storefront.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        loop="uvloop",
        http="httptools",
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips) or None,
        timeout_graceful_shutdown=20,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


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
    products: Annotated[int, typer.Option(min=0, max=1_000_000, help="Products to create.")] = 50,
) -> None:
    """Fill the database with realistic sample data."""
    from rich.progress import Progress

    from storefront.tasks import seed_products

    settings = _settings()
    with Progress(console=err) as progress:
        bar = progress.add_task("products", total=products)
        _run(lambda: seed_products(settings, products, lambda n: progress.advance(bar, n)))
    typer.echo(f"Seeded {products} products.")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from storefront.main import create_app

    os.environ.setdefault("DOCS_ENABLED", "true")
    document = create_app(_settings().model_copy(update={"docs_enabled": True})).openapi()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def main() -> None:  # pragma: no cover - console entry point
    app()
