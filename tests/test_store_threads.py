"""One store object shared by the keepalive's org threads: a read never trips over another
thread taking the lock (which forgets the cached document) at the same moment."""

from __future__ import annotations

import threading

from byods_manager.stores.base import StateStore
from byods_manager.stores.select import open_store

ROUNDS = 300


def test_loads_and_locks_from_many_threads_always_read_the_document(pg_url: str) -> None:
    store: StateStore = open_store(pg_url)
    with store.locked() as data:
        data.service_app("app@org").set_pair("acc-1", 2e9, "ref-1", None, "test")
        store.save(data)
    errors: list[BaseException] = []
    seen: list[str | None] = []

    def read() -> None:
        try:
            for _ in range(ROUNDS):
                seen.append(store.load().service_apps["app@org"].access_token)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    def lock() -> None:
        try:
            for _ in range(ROUNDS):
                with store.locked():
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for work in (read, read, lock, lock)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()

    assert errors == []
    assert seen == ["acc-1"] * (2 * ROUNDS)
