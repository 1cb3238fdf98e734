"""Typed operations on Webex ``/dataSources``: the library the CLI is a thin skin over.

Every operation validates its input before sending anything, and every change
(register, update, extend, disable, enable, delete) leaves one audit line, whether
it succeeded or failed.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from .audit import AuditLog
from .base_url import same_origin_below
from .bodies import (
    DEFAULT_LIFETIME_MINUTES,
    Changes,
    disable_body,
    enable_body,
    extend_body,
    merged_update_body,
    new_nonce,
    register_body,
)
from .errors import (
    AmbiguousRequestError,
    ApiError,
    ByodsError,
    InputError,
    NotFoundError,
    TransportError,
)
from .http import ApiResponse, HttpClient
from .models import DataSource, Schema
from .schema_cache import SchemaCache
from .validation import (
    validate_audience,
    validate_data_source_id,
    validate_lifetime,
    validate_nonce,
    validate_reason,
    validate_schema_id,
    validate_subject,
    validate_url,
)

LIST_PATH = "/dataSources/"  # the spec's list path has the trailing slash
REGISTER_PATH = "/dataSources"
SCHEMAS_PATH = "/dataSources/schemas"
# A POST that may have been processed is re-sent at most this many more times, and only
# after listing shows that no data source carries its nonce.
MAX_REGISTER_RETRIES = 2
# A PUT or DELETE whose response was lost is re-sent (a PUT with a fresh nonce) at most
# this many more times, and only after reading back shows it was not applied.
MAX_CHANGE_RETRIES = 2
MAX_LIST_PAGES = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class WriteCancelled(Exception):
    """A ``before_write`` check said no: nothing was sent (not audited, not a failure)."""


# Aliases: inside the class, ``list`` names the method, not the builtin.
SchemaList = list[Schema]
ItemList = list[dict[str, Any]]


def item_path(data_source_id: str) -> str:
    return f"/dataSources/{data_source_id}"


class DataSourceClient:
    def __init__(
        self,
        http: HttpClient,
        *,
        audit: AuditLog | None = None,
        schema_cache: SchemaCache | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
    ) -> None:
        self.http = http
        self.audit = audit
        self.schema_cache = schema_cache
        self._new_nonce = nonce_factory

    def close(self) -> None:
        self.http.close()

    # -- reading -----------------------------------------------------------------------

    def list(self) -> list[DataSource]:
        """Every data source of the org (follows ``Link: rel="next"`` pages if sent)."""
        return [DataSource.from_api(item) for item in self._items(LIST_PATH)]

    def get(self, data_source_id: str) -> DataSource:
        data_source_id = validate_data_source_id(data_source_id)
        return self._get(data_source_id)

    def find_by_nonce(self, nonce: str) -> DataSource | None:
        for data_source in self.list():
            if data_source.nonce == nonce:
                return data_source
        return None

    def list_schemas(self, refresh: bool = False) -> SchemaList:
        """The schema list, from the one-day cache unless ``refresh`` or it is stale."""
        if self.schema_cache is not None and not refresh:
            cached = self.schema_cache.load()
            if cached is not None:
                return cached
        schemas = [Schema.from_api(item) for item in self._items(SCHEMAS_PATH)]
        if self.schema_cache is not None:
            self.schema_cache.store(schemas)
        return schemas

    def get_schema(self, schema_id: str) -> Schema:
        schema_id = validate_schema_id(schema_id)
        path = f"{SCHEMAS_PATH}/{schema_id}"
        response = self._request("GET", path, "Schema", schema_id)
        return Schema.from_api(_object(response, path))

    # -- changing ----------------------------------------------------------------------

    def register(
        self,
        *,
        url: str,
        schema_id: str,
        audience: str,
        subject: str,
        nonce: str | None = None,
        lifetime_minutes: int = DEFAULT_LIFETIME_MINUTES,
    ) -> DataSource:
        """Register a data source. Safe to call over a flaky network: never duplicates."""
        body = register_body(
            url=validate_url(url),
            schema_id=validate_schema_id(schema_id),
            audience=validate_audience(audience),
            subject=validate_subject(subject),
            nonce=validate_nonce(nonce) if nonce is not None else self._new_nonce(),
            lifetime_minutes=validate_lifetime(lifetime_minutes),
        )
        fields = _safe_fields(body)
        try:
            created, tracking_id, recovered = self._post_once(body)
        except ByodsError as exc:
            self._record("register", None, exc, **fields)
            raise
        self._record("register", created.id, None, tracking_id, recovered=recovered, **fields)
        return created

    def _post_once(self, body: dict[str, Any]) -> tuple[DataSource, str | None, bool]:
        """POST, and after an ambiguous failure look for the nonce before any re-send."""
        retries = 0
        while True:
            try:
                response = self.http.request("POST", REGISTER_PATH, json=body)
                return (
                    DataSource.from_api(_object(response, REGISTER_PATH)),
                    response.tracking_id,
                    False,
                )
            except AmbiguousRequestError as exc:
                try:
                    existing = self.find_by_nonce(body["nonce"])
                except ByodsError as list_exc:
                    raise AmbiguousRequestError(
                        f"{exc} Checking whether it was created failed too ({list_exc}); "
                        f"run `byods list --json` and look for nonce {body['nonce']!r} "
                        "before registering again."
                    ) from None
                if existing is not None:
                    self.http.notify(
                        "the registration went through although its response was lost; "
                        f"found data source {existing.id} by its nonce"
                    )
                    return existing, None, True
                if retries >= MAX_REGISTER_RETRIES:
                    raise AmbiguousRequestError(
                        f"{exc} No data source carries its nonce after {retries + 1} attempts; "
                        "nothing was registered. Try again later."
                    ) from None
                retries += 1
                self.http.notify(f"{exc}; no data source has its nonce, sending it again")

    def update(
        self,
        data_source_id: str,
        *,
        url: str | None = None,
        schema_id: str | None = None,
        audience: str | None = None,
        subject: str | None = None,
        lifetime_minutes: int | None = None,
        nonce: str | None = None,
    ) -> DataSource:
        """Change some values; everything else is kept and a new nonce is always sent."""
        data_source_id = validate_data_source_id(data_source_id)
        changes = Changes(
            url=validate_url(url) if url is not None else None,
            schema_id=validate_schema_id(schema_id) if schema_id is not None else None,
            audience=validate_audience(audience) if audience is not None else None,
            subject=validate_subject(subject) if subject is not None else None,
            lifetime_minutes=(
                validate_lifetime(lifetime_minutes) if lifetime_minutes is not None else None
            ),
        )
        chosen_nonce = validate_nonce(nonce) if nonce is not None else None
        changed = _safe_fields(changes.as_api())
        return self._modify(
            "update",
            data_source_id,
            lambda current: merged_update_body(current, changes, chosen_nonce or self._new_nonce()),
            **changed,
        )

    def extend(
        self,
        data_source_id: str,
        lifetime_minutes: int | None = None,
        *,
        skip_disabled: bool = False,
        before_write: Callable[[], bool] | None = None,
    ) -> DataSource:
        """Renew the JWS: one GET, one PUT changing only the nonce (and the lifetime if given).

        With ``skip_disabled``, a data source that the GET shows disabled is returned as
        it is, without a PUT or an audit line (its ``is_disabled`` tells the caller).
        ``before_write`` is asked between the GET and each PUT (the GET may have taken
        long); when it returns False, :class:`WriteCancelled` is raised and no PUT is sent.
        """
        data_source_id = validate_data_source_id(data_source_id)
        lifetime = validate_lifetime(lifetime_minutes) if lifetime_minutes is not None else None

        def build_body(current: DataSource) -> dict[str, Any] | None:
            if skip_disabled and current.is_disabled:
                return None
            if before_write is not None and not before_write():
                raise WriteCancelled(f"extending {data_source_id} was called off before the PUT")
            return extend_body(current, self._new_nonce(), lifetime)

        return self._modify("extend", data_source_id, build_body, tokenLifetimeMinutes=lifetime)

    def disable(self, data_source_id: str, reason: str) -> DataSource:
        """Stop Webex sending data; ``reason`` is shown to the org's admin in Control Hub."""
        data_source_id = validate_data_source_id(data_source_id)
        reason = validate_reason(reason)
        return self._modify(
            "disable",
            data_source_id,
            lambda current: disable_body(current, reason, self._new_nonce()),
            reason=reason,
        )

    def enable(self, data_source_id: str) -> DataSource:
        data_source_id = validate_data_source_id(data_source_id)
        return self._modify(
            "enable", data_source_id, lambda current: enable_body(current, self._new_nonce())
        )

    def delete(self, data_source_id: str) -> None:
        data_source_id = validate_data_source_id(data_source_id)
        try:
            tracking_id, recovered = self._delete_reconciled(data_source_id)
        except ByodsError as exc:
            self._record("delete", data_source_id, exc)
            raise
        self._record("delete", data_source_id, None, tracking_id, recovered=recovered or None)

    def _delete_reconciled(self, data_source_id: str) -> tuple[str | None, bool]:
        """DELETE; after a lost response, a read-back 404 means it was deleted."""
        path = item_path(data_source_id)
        retries = 0
        while True:
            try:
                response = self._request("DELETE", path, "Data source", data_source_id)
                return response.tracking_id, False
            except AmbiguousRequestError as exc:
                try:
                    self._get(data_source_id)
                except NotFoundError:
                    self.http.notify(
                        f"the delete of {data_source_id} went through although its "
                        "response was lost"
                    )
                    return None, True
                except ByodsError as get_exc:
                    raise AmbiguousRequestError(
                        f"{exc} Reading it back failed too ({get_exc}); run "
                        f"`byods show {data_source_id}` to see whether it still exists."
                    ) from None
                if retries >= MAX_CHANGE_RETRIES:
                    raise TransportError(
                        f"{exc} The data source still exists after {retries + 1} attempts; "
                        "it was not deleted. Try again later."
                    ) from None
                retries += 1
                self.http.notify(f"{exc}; the data source still exists, deleting it again")

    # -- helpers -----------------------------------------------------------------------

    def _request(
        self, method: str, path: str, what: str, identifier: str, json: Any = None
    ) -> ApiResponse:
        """One request whose 404 means ``what`` ``identifier`` does not exist."""
        try:
            return self.http.request(method, path, json=json)
        except NotFoundError as exc:
            raise _not_found(what, identifier, exc) from None

    def _get(self, data_source_id: str) -> DataSource:
        path = item_path(data_source_id)
        response = self._request("GET", path, "Data source", data_source_id)
        return DataSource.from_api(_object(response, path))

    def _modify(
        self,
        operation: str,
        data_source_id: str,
        build_body: Callable[[DataSource], dict[str, Any] | None],
        **fields: Any,
    ) -> DataSource:
        """GET the current data source, PUT the body built from it, audit the outcome.

        A ``build_body`` that returns None means "leave it": the GET's data source is
        returned and nothing else is sent or audited.
        """
        try:
            current = self._get(data_source_id)
            body = build_body(current)
            if body is None:
                return current
            updated, tracking_id, recovered = self._put_reconciled(data_source_id, body, build_body)
        except InputError:
            raise  # nothing was changed; not an audited attempt
        except ByodsError as exc:
            self._record(operation, data_source_id, exc, **fields)
            raise
        expires = updated.expires_at
        self._record(
            operation,
            data_source_id,
            None,
            tracking_id,
            expiresAt=expires.isoformat() if expires else None,
            recovered=recovered or None,
            **fields,
        )
        return updated

    def _put_reconciled(
        self,
        data_source_id: str,
        body: dict[str, Any],
        build_body: Callable[[DataSource], dict[str, Any] | None],
    ) -> tuple[DataSource, str | None, bool]:
        """PUT ``body``. After a lost response, read the data source back: if it carries
        the nonce sent, the PUT was applied; otherwise rebuild the body (a fresh nonce)
        from what was read and send it again. Returns (data source, trackingId, recovered).
        """
        path = item_path(data_source_id)
        retries = 0
        while True:
            try:
                response = self._request("PUT", path, "Data source", data_source_id, json=body)
                return DataSource.from_api(_object(response, path)), response.tracking_id, False
            except AmbiguousRequestError as exc:
                try:
                    current = self._get(data_source_id)
                except ByodsError as get_exc:
                    raise AmbiguousRequestError(
                        f"{exc} Reading it back failed too ({get_exc}); run "
                        f"`byods show {data_source_id}` to see whether the change was applied."
                    ) from None
                if current.nonce == body.get("nonce"):
                    self.http.notify(
                        f"the change to {data_source_id} went through although its response "
                        "was lost (the data source carries the nonce sent)"
                    )
                    return current, None, True
                if retries >= MAX_CHANGE_RETRIES:
                    raise TransportError(
                        f"{exc} The data source does not carry the nonce sent after "
                        f"{retries + 1} attempts; the change was not applied. Try again later."
                    ) from None
                rebuilt = build_body(current)
                if rebuilt is None:
                    return current, None, True
                body = rebuilt
                retries += 1
                self.http.notify(f"{exc}; the change was not applied, sending it with a new nonce")

    def _items(self, path: str) -> ItemList:
        items: ItemList = []
        next_path: str | None = path
        pages = 0
        while next_path and pages < MAX_LIST_PAGES:
            pages += 1
            response = self.http.request("GET", next_path)
            data = response.data
            if not isinstance(data, dict) or not isinstance(data.get("items"), list):
                raise ApiError(
                    response.status,
                    f"unexpected response to GET {path}: no 'items' list",
                    tracking_id=response.tracking_id,
                )
            items.extend(item for item in data["items"] if isinstance(item, dict))
            match = _NEXT_LINK.search(response.headers.get("Link", "") or "")
            next_path = self._next_page(match.group(1)) if match else None
        return items

    def _next_page(self, link: str) -> str:
        """The absolute URL of the next page; it must lie below the base URL, since the
        bearer token goes with it."""
        base = self.http.base_url
        url = urllib.parse.urljoin(base + "/", link)
        if not same_origin_below(base, url):
            raise ApiError(
                502,
                f"refusing to follow the next-page link {url!r}: it is outside the API base "
                f"URL {base} (the access token would be sent there)",
            )
        return url

    def _record(
        self,
        operation: str,
        data_source_id: str | None,
        error: ByodsError | None,
        tracking_id: str | None = None,
        **fields: Any,
    ) -> None:
        if self.audit is None:
            return
        if error is not None:
            tracking_id = getattr(error, "tracking_id", None)
            status = getattr(error, "status", None)
            outcome = "unknown" if isinstance(error, AmbiguousRequestError) else "failure"
            self.audit.record(
                operation,
                data_source_id,
                outcome,
                tracking_id=tracking_id,
                error=str(error),
                httpStatus=status,
                **fields,
            )
            return
        self.audit.record(operation, data_source_id, "success", tracking_id=tracking_id, **fields)


def _object(response: ApiResponse, path: str) -> dict[str, Any]:
    if not isinstance(response.data, dict):
        raise ApiError(
            response.status,
            f"unexpected response to {path}: not a JSON object",
            tracking_id=response.tracking_id,
        )
    return response.data


def _not_found(what: str, identifier: str, error: NotFoundError) -> NotFoundError:
    return NotFoundError(
        404,
        f"{what} ID not found: {identifier}",
        tracking_id=error.tracking_id,
        method=error.method,
        path=error.path,
    )


def _safe_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What an audit line may say about a request body: everything but the nonce.

    (None values are left in: the audit log drops them.)
    """
    return {key: value for key, value in body.items() if key != "nonce"}
