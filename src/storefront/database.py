"""Sessions and transactions: every one a `UnitOfWork`, committed one way.

Two factories over one engine: one for reading and one for writing. They
differ only on SQLite, where a writing transaction begins IMMEDIATE (takes the
write lock up front). Whatever commits (a request, a CLI command, the worker)
commits through `UnitOfWork.commit()`, which then dispatches the transaction's
effects; `transaction()` is that path for code outside a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session

from storefront.config import Settings
from storefront.db import STATEMENT_READS_OPTION, WRITE_OPTION, create_engine
from storefront.uow import Audited, Effects, ReadOnly, UnitOfWork


class Database:
    def __init__(self, settings: Settings, effects: Effects) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        # Reads run without a transaction around them: no BEGIN and COMMIT round
        # trips, each statement atomic and consistent on its own, as every
        # statement of a READ COMMITTED transaction is (PostgreSQL's
        # autocommit; on SQLite `db._on_begin` leaves the BEGIN out). The
        # session refuses to write (`uow.ReadOnly`).
        reader = self.engine.execution_options(
            **{STATEMENT_READS_OPTION: True}, **({} if settings.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        writer = self.engine.execution_options(**{WRITE_OPTION: True})

        def maker(bind: AsyncEngine, sync_session_class: type[Session] = Audited) -> async_sessionmaker[UnitOfWork]:
            return async_sessionmaker(
                bind,
                class_=UnitOfWork,
                sync_session_class=sync_session_class,
                expire_on_commit=False,
                autoflush=False,
                effects=effects,
                settings=settings,
            )

        self.read_session = maker(reader, ReadOnly)
        self.write_session = maker(writer)
        # One read-only transaction: a consistent snapshot for the exports,
        # whose server-side cursors (PostgreSQL) need a transaction anyway.
        self.snapshot_session = maker(self.engine, ReadOnly)
        # A transaction that begins as a read and may write (on SQLite a
        # deferred BEGIN): the admin's forms, which read and write through one session.
        self.deferred_session = maker(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """A writing unit of work outside a request: committed (and its effects
        dispatched) when the block ends, rolled back if it raises."""
        async with self.write_session() as uow:
            try:
                yield uow
            except BaseException:
                await uow.rollback()
                raise
            await uow.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()
