"""The worker delivers the outbox: at least once, with retries, never twice in normal operation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import Message

from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.config import Settings
from storefront.context import JobSignal
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Email, EmailStatus, Event, StreamTicket
from storefront.notifications.mailer import FileMailer, SmtpMailer
from storefront.worker import Worker, queue_status
from tests.factories import Factory
from tests.notifications.conftest import Inbox


def smtp_settings(settings: Settings, port: int, **overrides: object) -> Settings:
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}", "smtp_timeout_seconds": 5.0} | overrides)


async def queue(database: Database, n: int = 1, subject: str = "Hello") -> list[int]:
    ids = []
    async with database.transaction() as session:
        for i in range(n):
            email = await session.queue_message(
                to=f"u{i}@example.com", subject=f"{subject} {i}", text="plain", html="<p>html</p>"
            )
            await session.flush()  # numbers the row
            ids.append(email.id)
    return ids


async def load(database: Database, email_id: int) -> Email:
    async with database.read_session() as session:
        email = await session.get(Email, email_id)
        assert email is not None
        return email


def parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): _text(part) for part in message.walk() if not part.is_multipart()}


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().strip()


async def test_delivers_over_smtp_with_text_and_html(
    database: Database, settings: Settings, smtp_server: Inbox, smtp_port: int
) -> None:
    [email_id] = await queue(database)
    worker = Worker(database, smtp_settings(settings, smtp_port), JobSignal())

    assert await worker.run_once() == 1

    assert smtp_server.subjects() == ["Hello 0"]
    message = smtp_server.messages[0]
    assert message["To"] == "u0@example.com"
    assert message["Message-ID"]
    assert parts(message) == {"text/plain": "plain", "text/html": "<p>html</p>"}
    email = await load(database, email_id)
    assert email.status == EmailStatus.sent
    assert email.attempts == 1
    assert email.sent_at is not None
    assert email.last_error is None
    assert await worker.run_once() == 0  # nothing is sent twice


async def test_without_smtp_mail_goes_to_files(database: Database, settings: Settings) -> None:
    [email_id] = await queue(database, subject="Filed")
    worker = Worker(database, settings, JobSignal())

    await worker.run_once()

    files = list(settings.mail_dir.glob("*.eml"))
    assert len(files) == 1
    assert "Subject: Filed 0" in files[0].read_text()
    assert (await load(database, email_id)).status == EmailStatus.sent


async def test_file_mailer_rewrites_one_file_when_a_message_is_delivered_again(
    database: Database, settings: Settings
) -> None:
    [email_id] = await queue(database)
    email = await load(database, email_id)
    from storefront.notifications.mailer import build_message

    mailer = FileMailer(settings.mail_dir)
    await mailer.send(build_message(email, settings.mail_from))
    await mailer.send(build_message(email, settings.mail_from))
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1


async def test_failure_is_retried_with_backoff_then_delivered(
    database: Database, settings: Settings, smtp_port: int
) -> None:
    [email_id] = await queue(database)
    worker = Worker(database, smtp_settings(settings, smtp_port, email_retry_base_seconds=60.0), JobSignal())

    await worker.run_once()  # nothing listens on the port yet

    email = await load(database, email_id)
    assert email.status == EmailStatus.queued
    assert email.attempts == 1
    assert email.last_error is not None
    assert email.lease_owner is None
    # Backoff: 60 s ± 20% jitter before the next try.
    assert timedelta(seconds=47) < email.next_attempt_at - utcnow() < timedelta(seconds=73)
    assert await worker.run_once() == 0  # not due yet


async def test_last_failure_ends_failed_with_the_reason(database: Database, settings: Settings, smtp_port: int) -> None:
    [email_id] = await queue(database)
    worker = Worker(database, smtp_settings(settings, smtp_port, email_max_attempts=3), JobSignal())

    for _ in range(3):
        async with database.transaction() as session:  # make it due now instead of waiting out the backoff
            await session.execute(update(Email).values(next_attempt_at=utcnow()))
        assert await worker.run_once() == 1

    email = await load(database, email_id)
    assert email.status == EmailStatus.failed
    assert email.attempts == 3
    assert "Error" in (email.last_error or "")
    assert await worker.run_once() == 0


async def test_two_workers_never_send_the_same_email(
    database: Database, settings: Settings, smtp_server: Inbox, smtp_port: int
) -> None:
    await queue(database, 40)
    config = smtp_settings(settings, smtp_port, worker_batch_size=5)
    a, b = Worker(database, config, JobSignal()), Worker(database, config, JobSignal())

    async def drain(worker: Worker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(drain(a), drain(b))

    assert sorted(smtp_server.subjects()) == sorted(f"Hello {i}" for i in range(40))
    assert (await queue_status(database))["sent"] == 40


async def test_an_expired_lease_is_taken_over_and_the_dead_worker_cannot_overwrite(
    database: Database, settings: Settings, smtp_server: Inbox, smtp_port: int
) -> None:
    [email_id] = await queue(database)
    config = smtp_settings(settings, smtp_port)
    dead, alive = Worker(database, config, JobSignal()), Worker(database, config, JobSignal())
    [claimed] = await dead.claim()  # ... and then its process is killed
    assert await alive.run_once() == 0  # the lease still holds

    async with database.transaction() as session:
        await session.execute(update(Email).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert await alive.run_once() == 1
    assert smtp_server.subjects() == ["Hello 0"]

    await dead._failed(claimed, "late news from a dead worker")
    email = await load(database, email_id)
    assert email.status == EmailStatus.sent
    assert email.attempts == 2
    assert email.last_error is None


async def test_stopping_releases_what_was_held(database: Database, settings: Settings) -> None:
    [email_id] = await queue(database)
    worker = Worker(database, settings, JobSignal())
    await worker.claim()

    await worker.stop()

    email = await load(database, email_id)
    assert email.status == EmailStatus.queued
    assert email.lease_owner is None
    assert email.attempts == 0


async def test_maintenance_prunes_old_rows(database: Database, settings: Settings, factory: Factory) -> None:
    user = await factory.customer()
    old = utcnow() - timedelta(days=settings.retention_days + 1)
    [sent_old, sent_new, queued_old] = await queue(database, 3)
    async with database.transaction() as session:
        await session.execute(update(Email).where(Email.id.in_([sent_old, sent_new])).values(status="sent"))
        await session.execute(update(Email).where(Email.id == sent_old).values(sent_at=old))
        await session.execute(update(Email).where(Email.id == sent_new).values(sent_at=utcnow()))
        await session.execute(update(Email).where(Email.id == queued_old).values(created_at=old))
        session.add_all(
            [
                Event(type="x", audience="public", data={}, created_at=old),
                Event(type="y", audience="public", data={}, created_at=utcnow()),
                StreamTicket(ticket_hash="a" * 64, user_id=user.id, expires_at=utcnow() - timedelta(seconds=1)),
            ]
        )

    pruned = await Worker(database, settings, JobSignal()).maintain()

    assert pruned == {
        "emails": 1, "events": 1, "tickets": 1, "sessions": 0, "reset_tokens": 0, "idempotency_keys": 0, "carts": 0,
        "webhook_deliveries": 0,
    }  # fmt: skip
    async with database.read_session() as session:
        assert sorted(await session.scalars(select(Email.id))) == [sent_new, queued_old]
        assert list(await session.scalars(select(Event.type))) == ["y"]


async def test_embedded_worker_delivers_without_being_asked(
    settings: Settings, database: Database, factory: Factory
) -> None:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from storefront.main import create_app

    app = create_app(settings.model_copy(update={"worker_embedded": True, "worker_poll_seconds": 30.0}))
    admin = await factory.admin()
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        response = await client.post(
            "/api/v1/notifications/email",
            json={"to": "ada@example.com", "subject": "Now", "body": "b"},
            headers=admin.headers,
        )
        # The commit wakes the worker: no 30 s poll to wait out.
        for _ in range(100):
            if list(settings.mail_dir.glob("*.eml")):
                break
            await asyncio.sleep(0.05)
    assert response.status_code == 202
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1
    assert (await load(database, response.json()["id"])).status == EmailStatus.sent


def test_smtp_url_forms() -> None:
    plain = SmtpMailer("smtp://mailer:s%40cret@mail.example.com:587?starttls=true", timeout=5)
    assert (plain.hostname, plain.port, plain.username, plain.password, plain.start_tls, plain.use_tls) == (
        "mail.example.com", 587, "mailer", "s@cret", True, False
    )  # fmt: skip
    implicit = SmtpMailer("smtps://mail.example.com", timeout=5)
    assert (implicit.port, implicit.use_tls) == (465, True)
    assert SmtpMailer("smtp://localhost", timeout=5).start_tls is None


async def test_maintenance_ends_dead_sessions_with_their_refresh_tokens(
    database: Database, settings: Settings, factory: Factory
) -> None:
    from storefront.models.session import AuthSession, RefreshToken

    user = await factory.customer()
    now = utcnow()
    async with database.transaction() as session:
        live = AuthSession(user_id=user.id, expires_at=now + timedelta(days=1))
        expired = AuthSession(user_id=user.id, expires_at=now - timedelta(seconds=1))
        long_revoked = AuthSession(
            user_id=user.id,
            expires_at=now + timedelta(days=1),
            revoked_at=now - timedelta(days=settings.retention_days + 1),
        )
        session.add_all([live, expired, long_revoked])
        await session.flush()
        session.add_all(
            RefreshToken(session_id=s.id, token_hash=f"{s.id:064d}", expires_at=now + timedelta(days=1))
            for s in (live, expired, long_revoked)
        )

    pruned = await Worker(database, settings, JobSignal()).maintain()

    assert pruned["sessions"] == 2
    kept = [user.session_id, live.id]  # the factory's login session is live too
    async with database.read_session() as session:
        assert sorted(await session.scalars(select(AuthSession.id))) == kept
        assert sorted(await session.scalars(select(RefreshToken.session_id))) == kept


async def test_a_delivered_reset_email_keeps_no_copy_of_its_token(database: Database, settings: Settings) -> None:
    async with database.transaction() as session:
        email = await session.queue_message(
            to="ada@example.com", subject="Reset", text="token: s3cr3t-token", html="<p>s3cr3t-token</p>",
            kind="password_reset",
        )  # fmt: skip

    await Worker(database, settings, JobSignal()).run_once()

    [eml] = settings.mail_dir.glob("*.eml")
    assert "s3cr3t-token" in eml.read_text()  # the recipient got it
    stored = await load(database, email.id)
    assert stored.status == EmailStatus.sent
    assert "s3cr3t-token" not in stored.body_text
    assert stored.body_html is None
