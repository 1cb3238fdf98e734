"""Run one function over many items on a pool of threads.

requests is synchronous, so concurrency means threads. Each worker thread keeps its own
clients (one ``requests.Session`` each) in thread-local storage, keyed by org; the token
managers, the audit log, the schema cache and the pacer behind them are shared and safe
to share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ..client import DataSourceClient

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64

T = TypeVar("T")
R = TypeVar("R")


def run_concurrently(
    items: Iterable[T],
    work: Callable[[T], R],
    concurrency: int = DEFAULT_CONCURRENCY,
    on_done: Callable[[T, R], None] | None = None,
) -> list[R]:
    """``work(item)`` for every item, ``concurrency`` at a time; results in input order.

    ``work`` must not raise (it records its own failures); ``on_done`` runs in the
    calling thread as each item finishes, so it may print.
    """
    todo = list(items)
    results: dict[int, R] = {}
    workers = max(1, min(concurrency, len(todo) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="byods") as pool:
        futures = {pool.submit(work, item): index for index, item in enumerate(todo)}
        for future in as_completed(futures):
            index = futures[future]
            result = future.result()
            results[index] = result
            if on_done is not None:
                on_done(todo[index], result)
    return [results[index] for index in range(len(todo))]


class WorkerClients:
    """Per-thread, per-org data-source clients made by ``factory``; :meth:`close` closes
    every one of them."""

    def __init__(self, factory: Callable[[str], DataSourceClient]) -> None:
        self._factory = factory
        self._local = threading.local()
        self._all: list[DataSourceClient] = []
        self._lock = threading.Lock()

    def get(self, org_id: str) -> DataSourceClient:
        clients: dict[str, DataSourceClient] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = {}
            self._local.clients = clients
        client = clients.get(org_id)
        if client is None:
            client = self._factory(org_id)
            clients[org_id] = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            client.close()
