"""``GET /dataSources`` pages: ``max`` per page, ``Link: <...>; rel="next"`` while more remain."""

from __future__ import annotations

import re

import pytest
import requests

from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import register

NEXT = re.compile(r'<([^>]+)>; rel="next"')


def fill(box: Sandbox, token: str, count: int) -> list[str]:
    return [register(box, token)["id"] for _ in range(count)]


def walk(url: str, token: str) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = requests.get(next_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200
        pages += 1
        seen.extend(item["id"] for item in response.json()["items"])
        match = NEXT.search(response.headers.get("Link", ""))
        next_url = match.group(1) if match else None
    return seen, pages


def test_the_default_page_size_comes_from_the_option() -> None:
    with Sandbox(page_size=2) as box:
        token = box.issue_access_token("service_app")
        ids = fill(box, token, 5)
        assert walk(box.base_url + "/dataSources/", token) == (ids, 3)


def test_max_sets_the_page_size_and_the_last_page_has_no_link(sandbox: Sandbox) -> None:
    token = sandbox.issue_access_token("service_app")
    ids = fill(sandbox, token, 4)
    assert walk(sandbox.base_url + "/dataSources/?max=3", token) == (ids, 2)
    assert walk(sandbox.base_url + "/dataSources/?max=4", token) == (ids, 1)
    assert walk(sandbox.base_url + "/dataSources/", token) == (ids, 1)


@pytest.mark.parametrize("query", ["max=0", "max=abc", "max=1001", "cursor=x"])
def test_bad_paging_parameters_are_400(sandbox: Sandbox, query: str) -> None:
    token = sandbox.issue_access_token("service_app")
    response = requests.get(
        f"{sandbox.base_url}/dataSources/?{query}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 400
