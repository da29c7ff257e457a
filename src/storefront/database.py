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

from sqlalchemy.ext.asyncio import async_sessionmaker

from storefront.config import Settings
from storefront.db import WRITE_OPTION, create_engine
from storefront.uow import Effects, UnitOfWork


class Database:
    def __init__(self, settings: Settings, effects: Effects) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self.read_session, self.write_session = (
            async_sessionmaker(
                bind, class_=UnitOfWork, expire_on_commit=False, autoflush=False, effects=effects, settings=settings
            )
            for bind in (self.engine, writer)
        )

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
