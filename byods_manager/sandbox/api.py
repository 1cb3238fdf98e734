"""The Webex endpoints the sandbox imitates (everything below the ``/v1`` base path)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import contract
from .protocol import HttpProblem, Reply, Request, Stats
from .schemas import all_schemas, find_schema
from .signing import KeyRing
from .state import (
    INTEGRATION,
    PERSONAL,
    SERVICE_APP,
    SERVICE_APP_SCOPES,
    AccessToken,
    AuthCode,
    SandboxState,
)
from .webex import (
    APPLICATIONS_TOKEN_SCOPE,
    CLAIM_ORG,
    CLAIM_SCHEMA,
    CLAIM_URL,
    STATUS_ACTIVE,
    STATUS_DISABLED,
)

AUTH_CODE_LIFETIME = 300
NO_TOKEN = "The request requires a valid access token set in the Authorization request header."
NOT_AUTHORIZED = "The Service App is not authorized by a Full Admin of the target org."
# The fields a list item carries (the spec's list example); the rest is only in GET by id.
LIST_ITEM_FIELDS = ("id", "applicationId", "orgId", "createdAt", "createdBy", "jwsToken")
# The redirect URIs registered for the sandbox integration, besides any loopback one.
REGISTERED_REDIRECT_URIS = ("http://localhost:3000/callback",)
MAX_PAGE_SIZE = 1000

Handler = Callable[[Request, dict[str, str]], Reply]


class PkceChallenges:
    """PKCE (RFC 7636, S256 only) for the authorization-code flow: a code issued with a
    ``code_challenge`` is redeemed only with the matching ``code_verifier``."""

    def __init__(self) -> None:
        self._challenges: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, code: str, query: dict[str, str]) -> None:
        challenge = query.get("code_challenge")
        if challenge is None:
            return
        if query.get("code_challenge_method") != "S256":
            raise HttpProblem(400, "invalid_request: code_challenge_method must be S256.")
        with self._lock:
            self._challenges[code] = challenge

    def verify(self, code: str, verifier: str | None) -> None:
        with self._lock:
            challenge = self._challenges.pop(code, None)
        if challenge is None:
            return
        if verifier is None:
            raise HttpProblem(400, "invalid_grant: code_verifier is required (PKCE).")
        digest = hashlib.sha256(verifier.encode("utf-8")).digest()
        expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
        if not secrets.compare_digest(expected, challenge):
            raise HttpProblem(400, "invalid_grant: code_verifier does not match (PKCE).")


def _now_iso() -> str:
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def redirect_uri_registered(uri: str) -> bool:
    """The default redirect URI, or ``http://`` to 127.0.0.1 / [::1] (any port, any path)."""
    if uri in REGISTERED_REDIRECT_URIS:
        return True
    try:
        parts = urllib.parse.urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        return parts.scheme == "http" and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def thin(ds: dict[str, Any]) -> dict[str, Any]:
    """A data source as the list shows it."""
    return {name: ds[name] for name in LIST_ITEM_FIELDS if name in ds}


class WebexApi:
    """Routes and answers API requests against one :class:`SandboxState`."""

    def __init__(
        self,
        state: SandboxState,
        keys: KeyRing,
        issuer: Callable[[], str],
        stats: Stats,
        page_size: int = 100,
    ) -> None:
        self.state = state
        self.keys = keys
        self.issuer = issuer
        self.stats = stats
        self.page_size = page_size
        self.pkce = PkceChallenges()
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self.add_routes(
            (
                ("GET", "/authorize", self.authorize),
                ("POST", "/access_token", self.access_token),
                ("POST", "/applications/{appId}/token", self.application_token),
                ("GET", "/dataSources", self.list_data_sources),
                ("POST", "/dataSources", self.register),
                ("GET", "/dataSources/schemas", self.list_schemas),
                ("GET", "/dataSources/schemas/{schemaId}", self.get_schema),
                ("GET", "/dataSources/{id}", self.get_data_source),
                ("PUT", "/dataSources/{id}", self.update),
                ("DELETE", "/dataSources/{id}", self.delete),
            )
        )

    def add_routes(self, routes: tuple[tuple[str, str, Handler], ...]) -> None:
        for method, template, handler in routes:
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
            self.routes.append((method, re.compile(f"^{pattern}/?$"), template, handler))

    def match(self, method: str, path: str) -> tuple[str, Handler, dict[str, str]]:
        """The route key (``GET /dataSources/{id}``), its handler and path parameters."""
        allowed = []
        for route_method, pattern, template, handler in self.routes:
            found = pattern.match(path)
            if found:
                if route_method == method:
                    params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                    return f"{method} {template}", handler, params
                allowed.append(route_method)
        if allowed:
            raise HttpProblem(405, "Method Not Allowed", headers={"Allow": ", ".join(allowed)})
        raise HttpProblem(404, "The requested resource could not be found.")

    # -- credentials ----------------------------------------------------------------------

    def token_record(self, request: Request) -> AccessToken:
        """The bearer's token; a service-app token dies with its org's authorization."""
        token = request.bearer()
        if token is None:
            raise HttpProblem(401, NO_TOKEN)
        with self.state.lock:
            record = self.state.access_tokens.get(token)
            if record is None or not record.valid(time.time()):
                raise HttpProblem(401, NO_TOKEN)
            if record.kind == SERVICE_APP and not self.state.org_is_authorized(record.org):
                raise HttpProblem(401, NO_TOKEN)
            return record

    def _service_app_org(self, request: Request) -> str:
        """The customer org of the bearer's service-app token (403 for other tokens)."""
        record = self.token_record(request)
        if record.kind != SERVICE_APP:
            raise HttpProblem(
                403,
                "The access token is missing required scopes "
                "(spark-admin:datasource_read / spark-admin:datasource_write): "
                "use the service app's token.",
            )
        self.stats.bump_org(record.org)
        return record.org

    # -- OAuth ----------------------------------------------------------------------------

    def authorize(self, request: Request, _: dict[str, str]) -> Reply:
        """Auto-approves: the admin "clicks Accept" at once."""
        query = request.query
        ident = self.state.identity
        if query.get("client_id") != ident.integration_client_id:
            raise HttpProblem(400, "Invalid client_id: no such integration.")
        if query.get("response_type") != "code":
            raise HttpProblem(400, "response_type must be 'code'.")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise HttpProblem(400, "redirect_uri is required.")
        if not redirect_uri_registered(redirect_uri):
            raise HttpProblem(
                400,
                "redirect_uri is not registered for this integration: use "
                "http://localhost:3000/callback or an http:// URL on 127.0.0.1 or [::1].",
            )
        scopes = (query.get("scope") or "").split()
        if APPLICATIONS_TOKEN_SCOPE not in scopes:
            raise HttpProblem(
                400, f"Invalid scope: the request must include {APPLICATIONS_TOKEN_SCOPE}."
            )
        code = secrets.token_urlsafe(32)
        self.pkce.remember(code, query)
        with self.state.lock:
            self.state.auth_codes[code] = AuthCode(
                ident.integration_client_id,
                redirect_uri,
                scopes,
                time.time() + AUTH_CODE_LIFETIME,
            )
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urllib.parse.urlencode(params)
        return Reply(302, None, {"Location": location})

    def _client_kind(self, form: dict[str, str]) -> str:
        ident = self.state.identity
        pair = (form.get("client_id"), form.get("client_secret"))
        if pair == (ident.app_client_id, ident.app_client_secret):
            return SERVICE_APP
        if pair == (ident.integration_client_id, ident.integration_client_secret):
            return INTEGRATION
        raise HttpProblem(401, "invalid_client: unknown client_id or wrong client_secret.")

    def access_token(self, request: Request, _: dict[str, str]) -> Reply:
        form = request.form()
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "refresh_token"):
            raise HttpProblem(400, f"unsupported_grant_type: {grant or '(missing)'}")
        kind = self._client_kind(form)
        now = time.time()
        org = ""
        with self.state.transaction():
            if grant == "authorization_code":
                scopes = self._redeem_code(form, kind, now)
            else:
                scopes, org = self._use_refresh_token(form, kind, now)
            answer = self.state.issue_pair(kind, scopes, now, org)
        self.stats.bump(f"POST /access_token [{grant}:{kind}]")
        if org:
            self.stats.bump_org(org)
        return Reply(200, answer)

    def _redeem_code(self, form: dict[str, str], kind: str, now: float) -> list[str]:
        code = self.state.auth_codes.get(form.get("code") or "")
        if kind != INTEGRATION or code is None or code.used or now >= code.expires_at:
            raise HttpProblem(400, "invalid_grant: the authorization code is invalid or used.")
        if form.get("redirect_uri") != code.redirect_uri:
            raise HttpProblem(
                400, "invalid_grant: redirect_uri does not match the authorize request."
            )
        self.pkce.verify(form.get("code") or "", form.get("code_verifier"))
        code.used = True
        return code.scopes

    def _use_refresh_token(
        self, form: dict[str, str], kind: str, now: float
    ) -> tuple[list[str], str]:
        """Rotation: a refresh token works once; the answer carries its successor."""
        grant = self.state.refresh_tokens.get(form.get("refresh_token") or "")
        if grant is None or grant.kind != kind or not grant.valid(now):
            raise HttpProblem(400, "invalid_grant: the refresh token is invalid, expired or used.")
        if kind == SERVICE_APP and not self.state.org_is_authorized(grant.org):
            raise HttpProblem(400, "invalid_grant: the refresh token is invalid, expired or used.")
        grant.used = True
        return grant.scopes, grant.org

    def application_token(self, request: Request, params: dict[str, str]) -> Reply:
        record = self.token_record(request)
        if record.kind not in (PERSONAL, INTEGRATION) or (
            APPLICATIONS_TOKEN_SCOPE not in record.scopes
        ):
            raise HttpProblem(
                403, f"The access token is missing the required scope {APPLICATIONS_TOKEN_SCOPE}."
            )
        ident = self.state.identity
        if params["appId"] != ident.app_id:
            raise HttpProblem(404, "Service App not found.")
        body = request.json()
        problems = contract.body_problems(
            body, contract.APPLICATION_TOKEN_PROPERTIES, contract.APPLICATION_TOKEN_REQUIRED
        )
        if problems:
            raise HttpProblem(400, problems[0], problems)
        if (body["clientId"], body["clientSecret"]) != (
            ident.app_client_id,
            ident.app_client_secret,
        ):
            raise HttpProblem(400, "Invalid client credentials")
        with self.state.transaction():
            org = self.state.find_org(body["targetOrgId"])
            if org is None or not org.authorized:
                raise HttpProblem(403, NOT_AUTHORIZED)
            answer = self.state.issue_pair(SERVICE_APP, SERVICE_APP_SCOPES, time.time(), org.uuid)
        self.stats.bump_org(org.uuid)
        return Reply(200, answer)

    # -- schemas --------------------------------------------------------------------------

    def list_schemas(self, request: Request, _: dict[str, str]) -> Reply:
        self.token_record(request)
        return Reply(200, {"items": all_schemas()})

    def get_schema(self, request: Request, params: dict[str, str]) -> Reply:
        self.token_record(request)
        schema = find_schema(params["schemaId"])
        if schema is None:
            raise HttpProblem(404, f"Schema {params['schemaId']} not found.")
        return Reply(200, schema)

    # -- data sources ---------------------------------------------------------------------

    def list_data_sources(self, request: Request, _: dict[str, str]) -> Reply:
        """Thin items, ``max`` per page, ``Link: <...>; rel="next"`` while more remain."""
        org = self._service_app_org(request)
        size = self._page_size(request.query.get("max"))
        start = self._cursor(request.query.get("cursor"))
        items = [thin(ds) for ds in self.state.list_data_sources(org)]
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            query = urllib.parse.urlencode({"max": size, "cursor": start + size})
            headers["Link"] = f'<{request.base_url}/dataSources/?{query}>; rel="next"'
        return Reply(200, {"items": page}, headers)

    def _page_size(self, value: str | None) -> int:
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
            raise HttpProblem(400, f"'max' must be a whole number from 1 to {MAX_PAGE_SIZE}.")
        return int(value)

    @staticmethod
    def _cursor(value: str | None) -> int:
        if value is None:
            return 0
        if not value.isdigit():
            raise HttpProblem(400, "Invalid 'cursor'.")
        return int(value)

    def _find(self, org: str, data_source_id: str) -> dict[str, Any]:
        """The org's data source; another org's is as invisible as a missing one."""
        found = self.state.data_sources.get(data_source_id)
        if found is None or found["orgId"] != org:
            raise HttpProblem(404, f"Data source {data_source_id} not found.")
        return found

    def get_data_source(self, request: Request, params: dict[str, str]) -> Reply:
        org = self._service_app_org(request)
        with self.state.lock:
            return Reply(200, dict(self._find(org, params["id"])))

    def _sign(self, ds: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "aud": ds["audience"],
            "sub": ds["subject"],
            "iss": self.issuer(),
            "exp": now + int(ds["tokenLifetimeMinutes"]) * 60,
            CLAIM_URL: ds["url"],
            CLAIM_SCHEMA: ds["schemaId"],
            "iat": now,
            CLAIM_ORG: ds["orgId"],
            "jti": ds["nonce"],
        }
        return self.keys.sign(claims)

    def _check_fields(self, body: dict[str, Any]) -> None:
        if body.get("tokenLifetimeMinutes") is not None:
            problem = contract.lifetime_problem(body["tokenLifetimeMinutes"])
            if problem:
                raise HttpProblem(400, problem)
        for name in ("url", "audience", "subject", "nonce"):
            if name in body and isinstance(body[name], str) and not body[name].strip():
                raise HttpProblem(400, f"'{name}' must not be empty.")
        problem = contract.url_problem(body["url"]) if "url" in body else None
        if problem:
            raise HttpProblem(400, problem)

    def _claim_nonce(self, org: str, nonce: str) -> None:
        """Every POST and PUT needs a nonce this org has never sent before."""
        used = self.state.nonces_of(org)
        if nonce in used:
            raise HttpProblem(409, "The nonce has already been used; send a new one.")
        used.add(nonce)

    def register(self, request: Request, _: dict[str, str]) -> Reply:
        org = self._service_app_org(request)
        body = request.json()
        problems = contract.body_problems(
            body, contract.REGISTER_PROPERTIES, contract.REGISTER_REQUIRED
        )
        if problems:
            raise HttpProblem(400, " ".join(problems), problems)
        self._check_fields(body)
        if find_schema(body["schemaId"]) is None:
            raise HttpProblem(400, f"Unknown schemaId {body['schemaId']}.")
        ident = self.state.identity
        with self.state.transaction():
            self._claim_nonce(org, body["nonce"])
            ds: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "schemaId": body["schemaId"],
                "url": body["url"],
                "audience": body["audience"],
                "subject": body["subject"],
                "nonce": body["nonce"],
                "tokenLifetimeMinutes": int(body["tokenLifetimeMinutes"]),
                "status": STATUS_ACTIVE,
                "orgId": org,
                "applicationId": ident.app_client_id,
                "createdBy": ident.admin_user_uuid,
                "createdAt": _now_iso(),
            }
            ds["jwsToken"] = self._sign(ds)
            self.state.data_sources[ds["id"]] = ds
            return Reply(200, dict(ds))

    def update(self, request: Request, params: dict[str, str]) -> Reply:
        """PUT replaces the data source: every field is sent, with a never-used nonce."""
        org = self._service_app_org(request)
        body = request.json()
        problems = contract.body_problems(
            body, contract.UPDATE_PROPERTIES, contract.REPLACE_REQUIRED
        )
        if problems:
            raise HttpProblem(400, " ".join(problems), problems)
        self._check_fields(body)
        status = body.get("status") or STATUS_ACTIVE
        if status not in contract.STATUSES:
            raise HttpProblem(400, "'status' must be 'active' or 'disabled'.")
        message = (body.get("errorMessage") or "").strip()
        with self.state.transaction():
            ds = self._find(org, params["id"])
            if body["schemaId"] != ds["schemaId"]:
                raise HttpProblem(400, "The schemaId of a data source cannot be changed.")
            disabling = status == STATUS_DISABLED and ds["status"] != STATUS_DISABLED
            if disabling and not message:
                raise HttpProblem(400, "An errorMessage is required to set the status to disabled.")
            self._claim_nonce(org, body["nonce"])
            updated = dict(ds)
            for name in ("url", "audience", "subject", "nonce"):
                updated[name] = body[name]
            updated["tokenLifetimeMinutes"] = int(body["tokenLifetimeMinutes"])
            updated["status"] = status
            if status == STATUS_DISABLED:
                updated["errorMessage"] = message or ds.get("errorMessage", "")
            else:
                updated.pop("errorMessage", None)
            updated["jwsToken"] = self._sign(updated)
            self.state.data_sources[ds["id"]] = updated
            self.stats.extended(ds["id"], time.time(), _expiry(ds["jwsToken"]))
            return Reply(200, dict(updated))

    def delete(self, request: Request, params: dict[str, str]) -> Reply:
        org = self._service_app_org(request)
        with self.state.transaction():
            self._find(org, params["id"])
            del self.state.data_sources[params["id"]]
        return Reply(204)


def _expiry(jws_token: str) -> float:
    """The ``exp`` claim of a token this sandbox signed (its payload, unverified)."""
    payload = jws_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])
