"""JWS verification figures, printed (never asserted): `make bench`.

Runs against the project's own Webex sandbox on loopback: a real RS256 ``jwsToken`` of a
registered data source, the sandbox's JWKS fetched over HTTP.

* verifications per second on one thread with a warm key cache, every expectation checked
  (goal: at least 10,000/s);
* JWKS fetches per 10,000 verifications when one in every 100 carries a forged ``kid``
  (goal: at most one per cooldown period): once in real time, and once with a clock that
  moves 10 ms per verification so the run spans several cooldown periods.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from byods_manager.jwks import HttpJwksFetcher  # noqa: E402
from byods_manager.jws import b64url_encode  # noqa: E402
from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_WEBSOCKET  # noqa: E402
from byods_manager.verify import InvalidJws, JwsVerifier  # noqa: E402

COOLDOWN = 30.0
RUN = 10_000
FORGED_EVERY = 100


class CountingFetcher:
    def __init__(self) -> None:
        self.fetches = 0
        self._http = HttpJwksFetcher()

    def __call__(self, url: str) -> Any:
        self.fetches += 1
        return self._http(url)


class SteppingTimer:
    """A monotonic clock that moves a fixed step each time it is read by the run loop."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def register(sandbox: Sandbox) -> dict[str, Any]:
    body = {
        "schemaId": VOICE_VIRTUAL_AGENT_WEBSOCKET,
        "url": "wss://dap.example.com/va",
        "audience": "MyDap",
        "subject": "voiceVirtualAgent",
        "nonce": str(uuid.uuid4()),
        "tokenLifetimeMinutes": 1440,
    }
    response = requests.post(
        sandbox.base_url + "/dataSources",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.issue_access_token('service_app')}"},
        timeout=10,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def forged(token: str) -> str:
    """The same token with a header naming a key nobody has (the signature is irrelevant)."""
    _, payload, signature = token.split(".")
    header = b64url_encode(f'{{"kid":"{uuid.uuid4()}","alg":"RS256"}}'.encode())
    return f"{header}.{payload}.{signature}"


def best_rate(operation: Any, count: int = 10_000, rounds: int = 5) -> float:
    """Operations per second, the best of a few rounds (other processes share the CPU)."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            operation()
        best = max(best, count / (time.perf_counter() - started))
    return best


def throughput(verifier: JwsVerifier, token: str, expected: dict[str, str]) -> float:
    verifier.verify(token, **expected)  # warm the key cache
    return best_rate(lambda: verifier.verify(token, **expected))


def raw_rsa_rate(verifier: JwsVerifier, token: str) -> float:
    """The bare RS256 signature check on the same key: the floor under every verification."""
    header, payload, signature = token.split(".")
    key = verifier.keys.key(verifier.jwks_url or "", json.loads(decode(header))["kid"])
    assert key is not None
    raw, data = decode(signature), f"{header}.{payload}".encode()
    pad, digest = padding.PKCS1v15(), hashes.SHA256()
    return best_rate(lambda: key.verify(raw, data, pad, digest))


def decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def forged_run(
    jwks_url: str, token: str, timer: SteppingTimer | None, step: float
) -> tuple[int, float, int]:
    """(JWKS fetches during the run, seconds the run spanned, invalid verifications)."""
    fetcher = CountingFetcher()
    kwargs: dict[str, Any] = {"timer": timer} if timer is not None else {}
    verifier = JwsVerifier(jwks_url=jwks_url, fetcher=fetcher, refetch_cooldown=COOLDOWN, **kwargs)
    verifier.verify(token)  # warm
    fetcher.fetches = 0
    invalid = 0
    started = time.monotonic()
    for index in range(RUN):
        if timer is not None:
            timer.now += step
        candidate = forged(token) if index % FORGED_EVERY == FORGED_EVERY - 1 else token
        try:
            verifier.verify(candidate)
        except InvalidJws:
            invalid += 1
    spanned = RUN * step if timer is not None else time.monotonic() - started
    return fetcher.fetches, spanned, invalid


def main() -> None:
    pinned = pin_to_one_core()
    with Sandbox() as sandbox:
        created = register(sandbox)
        token = created["jwsToken"]
        jwks_url = sandbox.jwks_url  # the Webex path, {iss}/oauth2/v2/keys/verificationjwk
        expected = {
            "url": created["url"],
            "audience": created["audience"],
            "subject": created["subject"],
            "schema_id": created["schemaId"],
            "org_id": sandbox.state.identity.org_uuid,
            "nonce": created["nonce"],
        }
        verifier = JwsVerifier(jwks_url=jwks_url)
        rate = throughput(verifier, token, expected)
        print(
            f"verifications/s, one thread ({pinned}), warm cache, all checks: {rate:,.0f} "
            f"(goal >= 10,000; the bare RS256 check alone: {raw_rsa_rate(verifier, token):,.0f}/s)"
        )

        for label, timer, step in (
            ("real time", None, 0.0),
            ("simulated 10 ms per verification", SteppingTimer(), 0.01),
        ):
            fetches, spanned, invalid = forged_run(jwks_url, token, timer, step)
            periods = max(1, math.ceil(spanned / COOLDOWN))
            print(
                f"JWKS fetches per {RUN:,} verifications, 1 forged kid per {FORGED_EVERY} "
                f"({label}, {spanned:.1f}s, {periods} cooldown period(s) of {COOLDOWN:.0f}s): "
                f"{fetches} ({fetches / periods:.2f} per period, goal <= 1; "
                f"{invalid} rejected)"
            )


if __name__ == "__main__":
    main()
