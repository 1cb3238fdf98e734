"""JwsVerifier against our own RSA keys, served as a JWKS by a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pytest_httpserver import HTTPServer
from werkzeug import Response

from byods_manager.errors import ConfigError
from byods_manager.jwks import HttpJwksFetcher
from byods_manager.jws import b64url_encode
from byods_manager.verify import InvalidJws, JwksUnavailable, JwsVerifier

JWKS_PATH = "/jwks"
ISSUER = "https://idbroker.webex.com/idb"
ORG = "3e8a1c3f-6f1d-4a57-9b0e-2d1f0c6a9b11"
SCHEMA = "78efc775-dccb-45ca-9acf-989a4a59f788"


class Key:
    """An RSA signing key with a kid, as Webex's identity broker has them."""

    def __init__(self, bits: int = 2048) -> None:
        self.kid = str(uuid.uuid4())
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def jwk(self, **extra: str) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()

        def encode(value: int) -> str:
            return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "n": encode(numbers.n)}
        jwk["e"] = encode(numbers.e)
        jwk.update(extra)
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        head = {"kid": self.kid, "typ": "JWT", "alg": "RS256", **header}
        signing_input = f"{segment(head)}.{segment(claims)}"
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url_encode(signature)}"


def segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value).encode())


def claims_for(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": "MyDap",
        "sub": "voiceVirtualAgent",
        "iss": ISSUER,
        "iat": now,
        "exp": now + 3600,
        "jti": "nonce-1",
        "com.cisco.datasource.url": "wss://dap.example.com/va",
        "com.cisco.datasource.schema.uuid": SCHEMA,
        "com.cisco.org.uuid": ORG,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


EXPECTED = {
    "url": "wss://dap.example.com/va",
    "audience": "MyDap",
    "subject": "voiceVirtualAgent",
    "schema_id": SCHEMA,
    "org_id": ORG,
    "nonce": "nonce-1",
}


@pytest.fixture(scope="module")
def key() -> Key:
    return Key()


@pytest.fixture(scope="module")
def new_key() -> Key:
    return Key()


class Clock:
    """A monotonic timer the test moves by hand (TTL and cooldown)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timer() -> Clock:
    return Clock()


def serve_jwks(server: HTTPServer, *keys: Key) -> None:
    server.clear_all_handlers()
    server.expect_request(JWKS_PATH).respond_with_json({"keys": [k.jwk() for k in keys]})


def jwks_requests(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == JWKS_PATH)


@pytest.fixture
def make_verifier(httpserver: HTTPServer, timer: Clock) -> Callable[..., JwsVerifier]:
    def build(**kwargs: Any) -> JwsVerifier:
        kwargs.setdefault("jwks_url", httpserver.url_for(JWKS_PATH))
        kwargs.setdefault("timer", timer)
        return JwsVerifier(**kwargs)

    return build


def check_of(verifier: JwsVerifier, token: str, **expected: Any) -> str:
    with pytest.raises(InvalidJws) as caught:
        verifier.verify(token, **expected)
    message = str(caught.value)
    for part in token.split("."):
        if len(part) > 8:
            assert part not in message
    return caught.value.check


# -- valid tokens ----------------------------------------------------------------------------


def test_a_valid_token_returns_its_claims_after_one_jwks_fetch(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    verifier = make_verifier()
    claims = claims_for()
    for _ in range(3):
        assert verifier.verify(key.sign(claims), **EXPECTED) == claims
    assert jwks_requests(httpserver) == 1


def test_expectations_accept_the_base64_org_id_and_any_uuid_case(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    hydra = base64.b64encode(f"ciscospark://us/ORGANIZATION/{ORG}".encode()).decode().rstrip("=")
    token = key.sign(claims_for())
    verifier = make_verifier()
    assert verifier.verify(token, org_id=hydra, schema_id=SCHEMA.upper())["aud"] == "MyDap"


def test_an_audience_list_matches_when_it_contains_the_expected_audience(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    token = key.sign(claims_for(aud=["Other", "MyDap"]))
    assert make_verifier().verify(token, audience="MyDap")["aud"] == ["Other", "MyDap"]
    assert check_of(make_verifier(), token, audience="Nobody") == "audience"


# -- forgeries ---------------------------------------------------------------------------------


def test_a_tampered_payload_fails_the_signature_check(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    header, _, signature = key.sign(claims_for()).split(".")
    forged = f"{header}.{segment(claims_for(aud='Attacker'))}.{signature}"
    assert check_of(make_verifier(), forged) == "signature"


def test_a_tampered_signature_fails_the_signature_check(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    header, payload, signature = key.sign(claims_for()).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    assert check_of(make_verifier(), f"{header}.{payload}.{b64url_encode(bytes(raw))}") == (
        "signature"
    )
    assert check_of(make_verifier(), f"{header}.{payload}.{signature[:-4]}") == "signature"


def test_a_token_signed_by_another_key_under_a_known_kid_fails(
    httpserver: HTTPServer, key: Key, new_key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    impostor = new_key.sign(claims_for(), kid=key.kid)
    assert check_of(make_verifier(), impostor) == "signature"


def test_alg_none_is_rejected_before_any_fetch(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    header = segment({"kid": key.kid, "typ": "JWT", "alg": "none"})
    for signature in ("", "c2ln"):
        token = f"{header}.{segment(claims_for())}.{signature}"
        assert check_of(make_verifier(), token) == "alg"
    assert jwks_requests(httpserver) == 0


def test_hs256_signed_with_the_public_key_as_secret_is_rejected(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    signing_input = f"{segment({'kid': key.kid, 'alg': 'HS256'})}.{segment(claims_for())}"
    for secret in (key.public_pem(), json.dumps(key.jwk()).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert check_of(make_verifier(), f"{signing_input}.{b64url_encode(mac)}") == "alg"
    assert jwks_requests(httpserver) == 0


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256", "rs256", None, ["RS256"]])
def test_every_other_alg_is_rejected(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier], alg: Any
) -> None:
    serve_jwks(httpserver, key)
    token = key.sign(claims_for(), alg=alg)
    assert check_of(make_verifier(), token) == "alg"


def test_critical_header_extensions_and_a_missing_kid_are_rejected(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    assert check_of(make_verifier(), key.sign(claims_for(), crit=["exp"])) == "crit"
    assert check_of(make_verifier(), key.sign(claims_for(), kid=None)) == "kid"
    assert check_of(make_verifier(), key.sign(claims_for(), kid=7)) == "kid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "   ",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.c2ln",
        "e30.e30.c2ln",  # header {} (no alg) is fine to decode; alg check fails later
        "W10.e30.c2ln",  # header is a JSON list
        "bm90IGpzb24.e30.c2ln",  # header is not JSON
    ],
)
def test_malformed_tokens_are_reported_as_format_or_alg(
    make_verifier: Callable[..., JwsVerifier], token: str
) -> None:
    assert check_of(make_verifier(), token) in ("format", "alg")


def test_a_payload_that_is_not_a_json_object_is_a_format_error(
    make_verifier: Callable[..., JwsVerifier], key: Key
) -> None:
    header = segment({"kid": key.kid, "alg": "RS256"})
    assert check_of(make_verifier(), f"{header}.W10.c2ln") == "format"


# -- times --------------------------------------------------------------------------------------


def test_exp_and_iat_are_checked_with_the_leeway(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    now = int(time.time())
    verifier = make_verifier()
    assert verifier.verify(key.sign(claims_for(exp=now - 30)))  # within the default 60 s
    assert check_of(verifier, key.sign(claims_for(iat=now - 7200, exp=now - 90))) == "exp"
    assert verifier.verify(key.sign(claims_for(iat=now + 30)))
    assert check_of(verifier, key.sign(claims_for(iat=now + 600))) == "iat"
    assert check_of(verifier, key.sign(claims_for(nbf=now + 600))) == "nbf"
    strict = make_verifier(leeway=0)
    assert check_of(strict, key.sign(claims_for(exp=now - 30))) == "exp"
    generous = make_verifier(leeway=timedelta(minutes=5))
    assert generous.verify(key.sign(claims_for(exp=now - 120)))


def test_exp_and_iat_are_required_and_must_be_numbers(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    verifier = make_verifier()
    assert check_of(verifier, key.sign(claims_for(exp=None))) == "exp"
    assert check_of(verifier, key.sign(claims_for(iat=None))) == "iat"
    assert check_of(verifier, key.sign(claims_for(exp="tomorrow"))) == "exp"
    assert check_of(verifier, key.sign(claims_for(exp=True))) == "exp"


def test_a_negative_leeway_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        JwsVerifier(leeway=-1)


# -- expectations -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_expectation_must_match_its_claim(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier], name: str
) -> None:
    serve_jwks(httpserver, key)
    token = key.sign(claims_for())
    wrong = dict(EXPECTED, **{name: "0d7a7a9e-0000-4000-8000-000000000000"})
    assert check_of(make_verifier(), token, **wrong) == name.replace("_", "-")
    assert make_verifier().verify(token, **EXPECTED)


@pytest.mark.parametrize(
    ("name", "claim"),
    [
        ("url", "com.cisco.datasource.url"),
        ("audience", "aud"),
        ("subject", "sub"),
        ("schema_id", "com.cisco.datasource.schema.uuid"),
        ("org_id", "com.cisco.org.uuid"),
        ("nonce", "jti"),
    ],
)
def test_an_expected_claim_that_is_missing_fails(
    httpserver: HTTPServer,
    key: Key,
    make_verifier: Callable[..., JwsVerifier],
    name: str,
    claim: str,
) -> None:
    serve_jwks(httpserver, key)
    token = key.sign(claims_for(**{claim: None}))
    assert make_verifier().verify(token)  # not expected: not required
    assert check_of(make_verifier(), token, **{name: EXPECTED[name]}) == name.replace("_", "-")


def test_a_nonce_mismatch_does_not_show_the_nonce(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    with pytest.raises(InvalidJws) as caught:
        make_verifier().verify(key.sign(claims_for(jti="secret-nonce-42")), nonce="other")
    assert "secret-nonce-42" not in str(caught.value)
    assert str(caught.value).startswith("nonce:")


# -- keys: rotation, cooldown, outages ----------------------------------------------------------


def test_a_rotated_key_is_found_after_one_refetch_then_forged_kids_wait_for_the_cooldown(
    httpserver: HTTPServer,
    key: Key,
    new_key: Key,
    make_verifier: Callable[..., JwsVerifier],
    timer: Clock,
) -> None:
    serve_jwks(httpserver, key)
    verifier = make_verifier(refetch_cooldown=30)
    assert verifier.verify(key.sign(claims_for()))
    assert jwks_requests(httpserver) == 1

    timer.now += 31  # the first fetch is past its cooldown
    serve_jwks(httpserver, key, new_key)  # Webex rotates: the new key appears
    assert verifier.verify(new_key.sign(claims_for()))
    assert jwks_requests(httpserver) == 2
    assert verifier.keys.fetch_count == 2

    for _ in range(50):
        assert check_of(verifier, key.sign(claims_for(), kid=str(uuid.uuid4()))) == "kid"
    assert verifier.keys.fetch_count == 2  # the cooldown holds forged kids back

    timer.now += 31
    assert check_of(verifier, key.sign(claims_for(), kid="forged")) == "kid"
    assert verifier.keys.fetch_count == 3
    assert verifier.verify(key.sign(claims_for())) and verifier.verify(new_key.sign(claims_for()))
    assert verifier.keys.fetch_count == 3


def test_an_unknown_kid_right_after_the_first_fetch_is_not_refetched(
    httpserver: HTTPServer, key: Key, new_key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    serve_jwks(httpserver, key)
    verifier = make_verifier()
    assert verifier.verify(key.sign(claims_for()))
    serve_jwks(httpserver, key, new_key)
    assert check_of(verifier, new_key.sign(claims_for())) == "kid"
    assert jwks_requests(httpserver) == 1


def test_a_removed_key_stops_verifying_after_the_ttl(
    httpserver: HTTPServer,
    key: Key,
    new_key: Key,
    make_verifier: Callable[..., JwsVerifier],
    timer: Clock,
) -> None:
    serve_jwks(httpserver, key, new_key)
    verifier = make_verifier(cache_ttl=600)
    assert verifier.verify(key.sign(claims_for()))
    serve_jwks(httpserver, new_key)  # the old key is withdrawn
    timer.now += 599
    assert verifier.verify(key.sign(claims_for()))
    assert jwks_requests(httpserver) == 1
    timer.now += 2
    assert check_of(verifier, key.sign(claims_for())) == "kid"
    assert jwks_requests(httpserver) == 2


@pytest.mark.parametrize("status", [429, 503, 200])
def test_jwks_down_with_a_warm_cache_keeps_verifying(
    httpserver: HTTPServer,
    key: Key,
    make_verifier: Callable[..., JwsVerifier],
    timer: Clock,
    status: int,
) -> None:
    serve_jwks(httpserver, key)
    verifier = make_verifier(cache_ttl=600)
    assert verifier.verify(key.sign(claims_for()))
    httpserver.clear_all_handlers()
    if status == 200:  # up, but answering garbage
        httpserver.expect_request(JWKS_PATH).respond_with_data("<html>", status=200)
    else:
        httpserver.expect_request(JWKS_PATH).respond_with_json(
            {"message": "slow down"}, status=status, headers={"Retry-After": "120"}
        )
    timer.now += 3600  # TTL long gone
    for _ in range(5):
        assert verifier.verify(key.sign(claims_for()))
    assert check_of(verifier, key.sign(claims_for(), kid="unknown")) == "kid"
    assert jwks_requests(httpserver) == 2  # the first fetch, one failed attempt, no more


def test_jwks_unreachable_with_a_warm_cache_keeps_verifying(
    key: Key, timer: Clock, tmp_path: Any
) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    serve_jwks(server, key)
    verifier = JwsVerifier(jwks_url=server.url_for(JWKS_PATH), timer=timer, cache_ttl=60)
    assert verifier.verify(key.sign(claims_for()))
    server.stop()  # connection refused from now on
    timer.now += 120
    assert verifier.verify(key.sign(claims_for()))
    assert verifier.keys.fetch_count == 2


def test_a_cold_cache_with_the_jwks_down_reports_keys_unavailable(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier], timer: Clock
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json({}, status=429)
    verifier = make_verifier()
    with pytest.raises(JwksUnavailable) as caught:
        verifier.verify(key.sign(claims_for()))
    assert caught.value.check == "keys"
    assert "HTTP 429" in str(caught.value)
    with pytest.raises(JwksUnavailable):
        verifier.verify(key.sign(claims_for()))
    assert jwks_requests(httpserver) == 1  # the cooldown applies to failures too
    timer.now += 31
    serve_jwks(httpserver, key)
    assert verifier.verify(key.sign(claims_for()))


def test_unusable_keys_in_the_jwks_are_skipped(
    httpserver: HTTPServer, key: Key, make_verifier: Callable[..., JwsVerifier]
) -> None:
    weak = Key(bits=1024)
    odd = [
        weak.jwk(),
        key.jwk(kid="for-encryption", use="enc"),
        key.jwk(kid="other-alg", alg="RS512"),
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not an object",
        key.jwk(alg="RS256"),
    ]
    httpserver.expect_request(JWKS_PATH).respond_with_json({"keys": odd})
    verifier = make_verifier()
    assert verifier.verify(key.sign(claims_for()))
    assert check_of(verifier, weak.sign(claims_for())) == "kid"
    assert check_of(verifier, key.sign(claims_for(), kid="for-encryption")) == "kid"
    assert check_of(verifier, key.sign(claims_for(), kid="other-alg")) == "kid"


def test_concurrent_verifications_on_a_cold_cache_fetch_once(
    key: Key, threaded_httpserver: HTTPServer
) -> None:
    def slow_jwks(_: Any) -> Response:
        time.sleep(0.2)
        return Response(json.dumps({"keys": [key.jwk()]}), content_type="application/json")

    threaded_httpserver.expect_request(JWKS_PATH).respond_with_handler(slow_jwks)
    verifier = JwsVerifier(jwks_url=threaded_httpserver.url_for(JWKS_PATH))
    token = key.sign(claims_for())
    results: list[Any] = []

    def work() -> None:
        try:
            results.append(verifier.verify(token, audience="MyDap")["aud"])
        except InvalidJws as exc:  # pragma: no cover - reported by the assert below
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["MyDap"] * 8
    assert jwks_requests(threaded_httpserver) == 1


# -- issuers ------------------------------------------------------------------------------------


class RecordingFetcher:
    """Records the URLs asked for, then fetches a JWKS from the local server over HTTP."""

    def __init__(self, server: HTTPServer) -> None:
        self.urls: list[str] = []
        self.server = server
        self.http = HttpJwksFetcher()

    def __call__(self, url: str) -> Any:
        self.urls.append(url)
        return self.http(self.server.url_for(JWKS_PATH))


@pytest.mark.parametrize(
    "issuer",
    [
        "https://idbroker.webex.com.evil.example/idb",
        "https://evil.example/idb",
        "http://idbroker.webex.com/idb",
        "https://idbroker.webex.com:8443/idb",
        "https://user@idbroker.webex.com/idb",
        "https://idbroker.webex.com/idb/",
        "https://idbroker.webex.com/idb/../evil",
        "https://idbroker.webex.com/other",
        "https://idbroker.webex.com/idb?x=1",
        "https://IDBROKER.webex.com/idb",
        "https://evilidbroker.webex.com/idb",
        "https://idbroker.evil.webex.com/idb",
        "https://idbroker-evil.webex.com/idb",
        "https://idbroker.webex.com\n/idb",
        "",
        None,
        42,
    ],
)
def test_an_issuer_outside_the_allow_list_is_refused_before_any_request(
    httpserver: HTTPServer, key: Key, issuer: Any
) -> None:
    serve_jwks(httpserver, key)
    fetcher = RecordingFetcher(httpserver)
    verifier = JwsVerifier(fetcher=fetcher)
    assert check_of(verifier, key.sign(claims_for(iss=issuer))) == "issuer"
    assert fetcher.urls == []
    assert len(httpserver.log) == 0


@pytest.mark.parametrize(
    ("issuer", "environment"),
    [
        ("https://idbroker.webex.com/idb", None),
        ("https://idbroker-eu.webex.com/idb", None),
        ("https://idbroker-ca.webex.com/idb", None),
        ("https://idbroker-b-us.webex.com/idb", None),
        ("https://idbrokerbts.webex.com/idb", None),
        ("https://idbrokerbts-eu.webex.com/idb", None),
        ("https://idbroker-eu.webex.com/idb", "production"),
        ("https://idbrokerbts.webex.com/idb", "integration"),
    ],
)
def test_an_allow_listed_issuer_has_its_keys_fetched_from_the_verificationjwk_path(
    httpserver: HTTPServer, key: Key, issuer: str, environment: str | None
) -> None:
    serve_jwks(httpserver, key)
    fetcher = RecordingFetcher(httpserver)
    verifier = JwsVerifier(fetcher=fetcher, environment=environment)
    assert verifier.verify(key.sign(claims_for(iss=issuer)))["iss"] == issuer
    assert fetcher.urls == [issuer + "/oauth2/v2/keys/verificationjwk"]


@pytest.mark.parametrize(
    ("issuer", "environment"),
    [
        ("https://idbrokerbts.webex.com/idb", "production"),
        ("https://idbrokerbts-eu.webex.com/idb", "production"),
        ("https://idbroker.webex.com/idb", "integration"),
    ],
)
def test_an_environment_trusts_only_its_own_identity_brokers(
    httpserver: HTTPServer, key: Key, issuer: str, environment: str
) -> None:
    fetcher = RecordingFetcher(httpserver)
    verifier = JwsVerifier(fetcher=fetcher, environment=environment)
    with pytest.raises(InvalidJws, match=f"not a Webex {environment} identity broker"):
        verifier.verify(key.sign(claims_for(iss=issuer)))
    assert fetcher.urls == []


def test_an_explicitly_trusted_issuer_serves_keys_at_its_verificationjwk_path(
    httpserver: HTTPServer, key: Key
) -> None:
    issuer = httpserver.url_for("/idb")
    httpserver.expect_request("/idb/oauth2/v2/keys/verificationjwk").respond_with_json(
        {"keys": [key.jwk()]}
    )
    verifier = JwsVerifier(trusted_issuers=[issuer])
    assert verifier.verify(key.sign(claims_for(iss=issuer)))["iss"] == issuer
    other = httpserver.url_for("/other")
    assert check_of(verifier, key.sign(claims_for(iss=other))) == "issuer"
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    "url", ["http://jwks.example.com/keys", "ftp://127.0.0.1/keys", "keys.json", "https://"]
)
def test_a_plain_http_or_odd_jwks_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        JwsVerifier(jwks_url=url)


def test_https_and_loopback_http_jwks_urls_are_accepted() -> None:
    for url in ("https://keys.example.com/jwks", "http://127.0.0.1:9/jwks", "http://[::1]/x"):
        assert JwsVerifier(jwks_url=url).jwks_url == url


def test_an_unknown_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="production, integration"):
        JwsVerifier(environment="staging")


def test_without_cryptography_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "cryptography" or name.startswith("cryptography."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(ConfigError, match=r"pip install 'byods-manager\[verify\]'"):
        JwsVerifier()
