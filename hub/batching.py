"""Group commit: calls made by concurrent requests handed to one background task as batches.

The store work every request does (rate counts, revocation lookups, audit entries) costs one
transaction per batch instead of one per request; each caller still awaits its own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

# Calls taken into one batch at most.
MAX_BATCH = 256

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """One background task handing everything queued to `run` as one batch; each caller awaits its own result.

    Not started, or stopped, each call is run as a batch of its own, in the caller's task.
    """

    def __init__(self, name: str, run: Callable[[list[Item]], Awaitable[list[Result]]]) -> None:
        self.name = name
        self._run = run
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Result]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Calls waiting for the next batch."""
        return self._queue.qsize()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def submit(self, item: Item) -> Result:
        if self._task is None or self._task.done():
            [result] = await self._run([item])
            return result
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def stop(self) -> None:
        """Finish what is queued, then stop; calls made meanwhile run on their own."""
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)  # the end mark: nothing can be queued after it
        await task

    async def _loop(self) -> None:
        while True:
            batch, ending = self._take(await self._queue.get())
            if batch:
                await self._settle(batch)
            if ending:
                return

    def _take(
        self, first: tuple[Item, asyncio.Future[Result]] | None
    ) -> tuple[list[tuple[Item, asyncio.Future[Result]]], bool]:
        """The first entry and what is queued behind it, up to MAX_BATCH; and whether the end mark was met."""
        batch = []
        entry = first
        while entry is not None:
            batch.append(entry)
            if len(batch) >= MAX_BATCH or self._queue.empty():
                return batch, False
            entry = self._queue.get_nowait()
        return batch, True

    async def _settle(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        futures = [future for _, future in batch]
        try:
            results = await self._run([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every caller fails as its own call would have
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        for future, result in zip(futures, results, strict=True):
            if not future.done():
                future.set_result(result)
