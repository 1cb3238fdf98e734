"""The client's thin-list, paging and full-replace assumptions, checked against the sandbox.

``tests/test_client.py`` pins the exact requests against pytest-httpserver; these run the
same operations against the stricter sandbox (thin list items, ``Link: rel="next"``
pages, PUT that replaces, nonces never reused), as an outside Webex would answer them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from byods_manager.auth import StaticTokenProvider
from byods_manager.bulk import extend_all
from byods_manager.client import DataSourceClient
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC


def client_for(box: Sandbox, org_id: str | None = None) -> DataSourceClient:
    token = box.issue_access_token("service_app", org_id=org_id)
    http = HttpClient(
        box.base_url,
        StaticTokenProvider(token),
        retry=RetryPolicy(max_retries=0),
        sleep=lambda _: None,
    )
    return DataSourceClient(http)


@pytest.fixture
def paged() -> Iterator[Sandbox]:
    with Sandbox(page_size=2) as box:
        yield box


@pytest.fixture
def client(paged: Sandbox) -> Iterator[DataSourceClient]:
    api = client_for(paged)
    yield api
    api.close()


def register(client: DataSourceClient, n: int = 0, **changes: str) -> str:
    values = {
        "url": f"https://dap.example.com/{n}",
        "schema_id": VOICE_VIRTUAL_AGENT_GRPC,
        "audience": f"aud-{n}",
        "subject": f"sub-{n}",
        **changes,
    }
    return client.register(lifetime_minutes=60, **values).id


def test_thin_list_items_get_their_values_from_the_jws(client: DataSourceClient) -> None:
    created = register(client, 7, url="wss://dap.example.com/va")
    (listed,) = client.list()
    assert listed.raw.keys() == {
        "id",
        "applicationId",
        "orgId",
        "createdAt",
        "createdBy",
        "jwsToken",
    }
    assert listed.id == created
    assert (listed.audience, listed.subject, listed.url, listed.schema_id) == (
        "aud-7",
        "sub-7",
        "wss://dap.example.com/va",
        VOICE_VIRTUAL_AGENT_GRPC,
    )
    assert listed.nonce and listed.expires_at is not None
    assert listed.status is None  # only GET by id says
    assert client.get(created).status == "active"


def test_list_follows_every_page(client: DataSourceClient, paged: Sandbox) -> None:
    created = [register(client, n) for n in range(5)]
    before = paged.stats_snapshot()["requests"].get("GET /dataSources", 0)
    assert [ds.id for ds in client.list()] == created
    assert paged.stats_snapshot()["requests"]["GET /dataSources"] - before == 3


def test_update_extend_disable_enable_send_full_bodies_with_fresh_nonces(
    client: DataSourceClient,
) -> None:
    created = register(client)
    first_nonce = client.get(created).nonce
    updated = client.update(created, audience="new-aud")
    assert (updated.audience, updated.subject) == ("new-aud", "sub-0")
    extended = client.extend(created, lifetime_minutes=120)
    assert extended.token_lifetime_minutes == 120
    assert extended.nonce not in (first_nonce, updated.nonce)
    disabled = client.disable(created, "maintenance window")
    assert disabled.status == "disabled"
    still_disabled = client.extend(created)
    assert still_disabled.status == "disabled"
    assert still_disabled.error_message == "maintenance window"
    assert client.enable(created).status == "active"


def test_a_lost_registration_answer_is_found_through_the_thin_list(
    client: DataSourceClient, paged: Sandbox
) -> None:
    for n in range(3):
        register(client, n)
    paged.add_fault(503, path="/dataSources", method="POST", after=True)
    recovered = register(client, 9, subject="lost-answer")
    assert recovered in {ds["id"] for ds in paged.data_sources()}
    assert len(paged.data_sources()) == 4
    assert paged.stats_snapshot()["requests"]["POST /dataSources"] == 4


def test_extend_all_over_pages_and_only_in_the_clients_org() -> None:
    with Sandbox(orgs=2, page_size=2) as box:
        mine, theirs = (client_for(box, org) for org in box.org_ids)
        try:
            ids = [register(mine, n) for n in range(3)]
            register(theirs, 99)
            result = extend_all(mine, within=timedelta(days=1))
            assert sorted(item.data_source_id for item in result.results) == sorted(ids)
            assert all(item.outcome == "extended" for item in result.results)
        finally:
            mine.close()
            theirs.close()
