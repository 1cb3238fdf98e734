"""The loopback callback server over real HTTP."""

from __future__ import annotations

import socket
import threading
import urllib.parse
from collections.abc import Iterator

import pytest
import requests

from byods_manager.oauth.callback import CallbackServer, CallbackUnavailable
from byods_manager.oauth.redirect import (
    AuthorizationDenied,
    AuthorizationTimeout,
    RedirectTarget,
)

STATE = "state-from-this-run"


@pytest.fixture
def target(free_port: int) -> RedirectTarget:
    return RedirectTarget.parse(f"http://127.0.0.1:{free_port}/callback")


@pytest.fixture
def server(target: RedirectTarget) -> Iterator[CallbackServer]:
    with CallbackServer(target, STATE) as running:
        yield running


def callback(target: RedirectTarget, path: str = "/callback", **params: str) -> requests.Response:
    url = f"http://127.0.0.1:{target.port}{path}?{urllib.parse.urlencode(params)}"
    return requests.get(url, timeout=5)


def test_listens_on_loopback_only(server: CallbackServer, target: RedirectTarget) -> None:
    assert server.addresses == [("127.0.0.1", target.port)]


def test_localhost_listens_on_loopback_addresses_only(free_port: int) -> None:
    target = RedirectTarget.parse(f"http://localhost:{free_port}/callback")
    with CallbackServer(target, STATE) as running:
        hosts = {host for host, _ in running.addresses}
    assert "127.0.0.1" in hosts
    assert hosts <= {"127.0.0.1", "::1"}


def _localhost_addresses(port: int) -> set[str]:
    infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    return {str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)}


def test_localhost_listens_on_exactly_what_localhost_resolves_to(free_port: int) -> None:
    target = RedirectTarget.parse(f"http://localhost:{free_port}/callback")
    with CallbackServer(target, STATE) as running:
        hosts = {host for host, _ in running.addresses}
    assert hosts == _localhost_addresses(free_port)


@pytest.mark.parametrize("taken", ["127.0.0.1", "::1"])
def test_localhost_gives_up_when_any_of_its_addresses_is_taken(free_port: int, taken: str) -> None:
    """Another process on one of localhost's addresses could receive the code: paste instead."""
    if taken not in _localhost_addresses(free_port):
        pytest.skip(f"localhost does not resolve to {taken} here")
    family = socket.AF_INET6 if ":" in taken else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as squatter:
        squatter.bind((taken, free_port))
        squatter.listen()
        target = RedirectTarget.parse(f"http://localhost:{free_port}/callback")
        with pytest.raises(CallbackUnavailable, match=f"already in use .*{taken}"):
            CallbackServer(target, STATE)


def test_matching_callback_returns_the_code_and_a_closable_page(
    server: CallbackServer, target: RedirectTarget
) -> None:
    response = callback(target, code="the-code-XYZ", state=STATE)
    assert response.status_code == 200
    assert "close this tab" in response.text
    assert "the-code-XYZ" not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert server.wait(timeout=5) == "the-code-XYZ"


def test_wrong_state_gets_400_and_the_right_one_is_still_accepted(
    server: CallbackServer, target: RedirectTarget
) -> None:
    wrong = callback(target, code="attacker-code", state="forged")
    missing = callback(target, code="attacker-code")
    assert (wrong.status_code, missing.status_code) == (400, 400)
    assert "attacker-code" not in wrong.text
    right = callback(target, code="good-code", state=STATE)
    assert right.status_code == 200
    assert server.wait(timeout=5) == "good-code"


def test_other_paths_are_404_and_do_not_end_the_wait(
    server: CallbackServer, target: RedirectTarget
) -> None:
    assert callback(target, path="/favicon.ico").status_code == 404
    assert callback(target, path="/other", code="c", state=STATE).status_code == 404
    callback(target, code="good-code", state=STATE)
    assert server.wait(timeout=5) == "good-code"


def test_access_denied_ends_the_wait_with_a_clear_error(
    server: CallbackServer, target: RedirectTarget
) -> None:
    response = callback(target, error="access_denied", state=STATE)
    assert response.status_code == 200
    assert "access_denied" in response.text
    with pytest.raises(AuthorizationDenied, match="access_denied"):
        server.wait(timeout=5)


def test_gives_up_after_the_timeout(server: CallbackServer) -> None:
    with pytest.raises(AuthorizationTimeout, match=r"within 1s"):
        server.wait(timeout=1)


def test_an_idle_connection_does_not_block_the_callback(
    server: CallbackServer, target: RedirectTarget
) -> None:
    """Browsers open speculative connections that never send a request."""
    with socket.create_connection(("127.0.0.1", target.port), timeout=5):
        response = callback(target, code="good-code", state=STATE)
        assert response.status_code == 200
        assert server.wait(timeout=5) == "good-code"


def test_port_in_use_is_reported_as_unavailable(target: RedirectTarget) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", target.port))
        squatter.listen()
        with pytest.raises(CallbackUnavailable, match="already in use"):
            CallbackServer(target, STATE)


@pytest.mark.parametrize(
    "uri", ["https://localhost:3000/callback", "http://example.com:3000/callback"]
)
def test_non_loopback_or_https_redirects_cannot_be_served(uri: str) -> None:
    with pytest.raises(CallbackUnavailable):
        CallbackServer(RedirectTarget.parse(uri), STATE)


def test_the_port_is_free_again_after_close(target: RedirectTarget) -> None:
    with CallbackServer(target, STATE):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as again:
        again.bind(("127.0.0.1", target.port))


def test_concurrent_callbacks_deliver_exactly_one_code(
    server: CallbackServer, target: RedirectTarget
) -> None:
    statuses: list[int] = []

    def hit(state: str) -> None:
        statuses.append(callback(target, code=f"code-{state}", state=state).status_code)

    threads = [threading.Thread(target=hit, args=(s,)) for s in ("x", "y", STATE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400]
    assert server.wait(timeout=5) == f"code-{STATE}"
