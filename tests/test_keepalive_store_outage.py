"""A state-store outage: the service does no work then, so `/healthz` answers 503
"failing" (naming the store) and `byods_store_available` is 0 until the store is back;
retries back off (doubling, with jitter, capped at the interval).

The first test stops a real PostgreSQL database under a running `byods keepalive`
(no new connections, the open ones terminated) and scrapes the real listener; the
second drives the service loop in-process, recording its waits instead of sleeping.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest

from byods_manager.sandbox import Sandbox
from byods_manager.service.alerts import Alerter, AlertSender
from byods_manager.service.cycle import Settings
from byods_manager.service.keepalive import KeepaliveService
from byods_manager.service.logs import EventLog
from byods_manager.service.metrics import KeepaliveMetrics
from byods_manager.service.orgs import OrgTarget
from byods_manager.stores.base import StoreUnavailableError
from tests.keepalive_helpers import KeepaliveProcess, keepalive_env, wait_for
from tests.test_keepalive_replicas import replica_env


def database_name(pg_url: str) -> str:
    return pg_url.split("?", 1)[0].rsplit("/", 1)[1]


def admin_url(pg_url: str) -> str:
    return pg_url.replace(f"/{database_name(pg_url)}?", "/postgres?", 1)


def set_connections(pg_url: str, allowed: bool) -> None:
    """Open or close the database to new connections; closing also ends the open ones."""
    name = database_name(pg_url)
    with psycopg.connect(admin_url(pg_url), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def store_gauge(replica: KeepaliveProcess) -> float:
    ((_, value),) = replica.metrics()["byods_store_available"]
    return value


@pytest.mark.slow
def test_healthz_fails_while_the_postgres_store_is_down_and_recovers(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path, pg_url: str
) -> None:
    base = keepalive_env(sandbox, sandbox_config, tmp_path)
    env = replica_env(base, tmp_path / "host", pg_url, tmp_path / "audit.jsonl")
    replica = KeepaliveProcess(env, "--lease", "3s", "--interval", "1s")
    try:
        wait_for(lambda: replica.get("/healthz").status_code == 200, "a healthy first cycle")
        assert store_gauge(replica) == 1
        set_connections(pg_url, False)
        try:
            body = wait_for(
                lambda: (r := replica.get("/healthz")).status_code == 503 and r.json(),
                "/healthz to fail during the outage",
            )
            gauge_down = store_gauge(replica)
            # Still failing a few retries later: the outage is not forgotten by a retry.
            attempts = replica.count("store_retry")
            wait_for(lambda: replica.count("store_retry") >= attempts + 2, "more retries")
            still_down = replica.get("/healthz").status_code
        finally:
            set_connections(pg_url, True)
        wait_for(lambda: replica.get("/healthz").status_code == 200, "/healthz back to 200")
        gauge_up = store_gauge(replica)
    finally:
        code = replica.stop()
        replica.kill()
    logs = "\n".join(replica.lines)

    assert body["status"] == "failing" and "state store" in body["reason"], body
    assert gauge_down == 0 and still_down == 503
    assert gauge_up == 1
    assert replica.count("store_unavailable") == 1 and replica.find("store_available"), logs
    assert code == 0, logs
    assert "Traceback" not in logs


class RecordedStop(threading.Event):
    """The service's stop event, whose waits are recorded and return at once."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(-1.0 if timeout is None else timeout)
        return self.is_set()


def test_store_retries_back_off_with_jitter_up_to_the_interval() -> None:
    stream = io.StringIO()
    log = EventLog(stream=stream)
    stop = RecordedStop()
    outage_attempts = 7
    seen_health: list[tuple[bool, dict[str, object]]] = []
    seen_gauge: list[float | None] = []
    calls = 0

    def source() -> Sequence[OrgTarget]:
        nonlocal calls
        calls += 1
        if calls == 3:
            seen_health.append(service.health())
            seen_gauge.append(metrics.registry.get_sample_value("byods_store_available"))
        if calls <= outage_attempts:
            raise StoreUnavailableError("connection refused")
        stop.set()  # the store is back: one good cycle, then stop
        return []

    metrics = KeepaliveMetrics()
    service = KeepaliveService(
        source,
        settings=Settings(),
        metrics=metrics,
        alerter=Alerter(AlertSender([], None, log), log),
        log=log,
        interval=10.0,
        stop=stop,
        jitter=lambda: 0.5,  # a quarter off every nominal delay
    )
    service.run_forever()
    logged = [
        float(line.rsplit("seconds=", 1)[1])
        for line in stream.getvalue().splitlines()
        if " store_retry " in line
    ]

    # 1, 2, 4, 8, then the 10 s interval, each less a quarter.
    assert logged == [0.75, 1.5, 3.0, 6.0, 7.5, 7.5, 7.5]
    assert stop.waits[:outage_attempts] == logged
    healthy, body = seen_health[0]
    assert not healthy and body["status"] == "failing"
    assert "state store cannot be reached: connection refused" in str(body["reason"])
    assert seen_gauge == [0.0]
    assert service.health()[0]
    assert metrics.registry.get_sample_value("byods_store_available") == 1.0
