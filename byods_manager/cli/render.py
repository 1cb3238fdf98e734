"""How the CLI shows things: tables, detail views, human times, JSON. No API logic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .tables import Column, render_table

if TYPE_CHECKING:
    from ..models import DataSource, Schema


F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """The --json flag every command that reads or changes data takes."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout (only that)."
    )(func)


def print_json(value: Any) -> None:
    """The only thing a --json command writes to stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    from tabulate import tabulate

    return tabulate(list(rows), headers=list(headers), tablefmt="simple", disable_numparse=True)


def remaining(expires_at: datetime, now: datetime | None = None) -> str:
    """Time left until ``expires_at``: ``11h 58m``, or ``EXPIRED`` once it has passed."""
    from ..durations import format_remaining

    return format_remaining(expires_at - (now or datetime.now(timezone.utc)))


def moment(when: float | datetime | str | None, now: datetime | None = None) -> str:
    """The one way a time is shown to people: UTC plus how far away it is,
    ``2026-11-22 06:03:00 UTC (in 1h 59m)``; ``unknown`` when there is none."""
    from ..durations import describe_moment

    if when is None or when == "":
        return "unknown"
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    elif not isinstance(when, datetime):
        when = datetime.fromtimestamp(when, tz=timezone.utc)
    return describe_moment(when, now)


def expires_in(data_source: DataSource, now: datetime | None = None) -> str:
    """``11h 58m``, ``EXPIRED``, or ``-`` when the JWS carries no expiry."""
    expires = data_source.expires_at
    return "-" if expires is None else remaining(expires, now)


def expiry_sentence(data_source: DataSource, now: datetime | None = None) -> str:
    from ..durations import describe_moment

    expires = data_source.expires_at
    if expires is None:
        return "token expiry unknown"
    return f"token expires {describe_moment(expires, now)}"


def schema_label(schema_id: str | None, schemas: Mapping[str, Schema]) -> str:
    if not schema_id:
        return "-"
    schema = schemas.get(schema_id)
    return schema.label if schema else schema_id


DATA_SOURCE_COLUMNS = (
    Column("id", "ID", shrinkable=False),
    Column("status", "STATUS", shrinkable=False),
    Column("expires", "EXPIRES IN", shrinkable=False),
    Column("audience", "AUDIENCE"),
    Column("schema", "SCHEMA"),
    Column("url", "URL"),
    Column("subject", "SUBJECT"),
)


def data_source_table(
    data_sources: Sequence[DataSource],
    schemas: Mapping[str, Schema],
    now: datetime | None = None,
    *,
    columns: str | None = None,
    wide: bool = False,
    width: int | None = None,
) -> str:
    """Columns by priority (id, status, expires in, audience, schema, url, subject), as
    many as fit ``width``."""
    if not data_sources:
        return "No data sources."
    rows = [
        {
            "id": ds.id,
            "status": ds.status or "-",
            "expires": expires_in(ds, now),
            "audience": ds.audience or "-",
            "schema": schema_label(ds.schema_id, schemas),
            "url": ds.url or "-",
            "subject": ds.subject or "-",
        }
        for ds in data_sources
    ]
    return render_table(DATA_SOURCE_COLUMNS, rows, chosen=columns, wide=wide, width=width)


def data_source_detail(
    data_source: DataSource,
    schemas: Mapping[str, Schema],
    show_token: bool = False,
    now: datetime | None = None,
) -> str:
    """Every field, then the decoded JWS header and claims with human times."""
    from ..jws import describe_claim
    from ..secrets import redact

    fields = data_source.to_dict(include_token=False)
    if data_source.schema_id:
        fields["schemaId"] = (
            f"{data_source.schema_id} ({schema_label(data_source.schema_id, schemas)})"
        )
    fields["expiresIn"] = expires_in(data_source, now)
    if data_source.jws_token:
        fields["jwsToken"] = data_source.jws_token if show_token else redact(data_source.jws_token)
    lines = [table(fields.items(), ("FIELD", "VALUE"))]
    decoded = data_source.decoded_jws
    if decoded is not None:
        lines.append("")
        lines.append("JWS header")
        lines.append(table(((k, describe_claim(k, v)) for k, v in decoded.header.items()), ()))
        lines.append("")
        lines.append("JWS claims")
        lines.append(table(((k, describe_claim(k, v, now)) for k, v in decoded.claims.items()), ()))
    elif data_source.jws_token:
        lines.append("")
        lines.append("The jwsToken could not be decoded.")
    if data_source.jws_token and not show_token:
        lines.append("")
        lines.append("(the raw jwsToken is shown with --show-token)")
    return "\n".join(lines)


def data_source_json(data_source: DataSource, show_token: bool = False) -> dict[str, Any]:
    """The API object (no jwsToken unless asked) plus the decoded JWS, which is not secret."""
    result = data_source.to_dict(include_token=show_token)
    decoded = data_source.decoded_jws
    if decoded is not None:
        result["jws"] = {"header": decoded.header, "claims": decoded.claims}
        if decoded.expires_at is not None:
            result["expiresAt"] = decoded.expires_at.isoformat()
    return result


SCHEMA_COLUMNS = (
    Column("id", "ID", shrinkable=False),
    Column("name", "NAME"),
    Column("service-type", "SERVICE TYPE"),
    Column("protocol", "PROTOCOL"),
    Column("app-type", "APP TYPE"),
    Column("url", "URL", default=False),
)


def schema_table(
    schemas: Sequence[Schema],
    *,
    columns: str | None = None,
    wide: bool = False,
    width: int | None = None,
) -> str:
    """The schema's name (its folder in Webex's schema repository), not its URL (--wide)."""
    if not schemas:
        return "No schemas."
    rows = [
        {
            "id": s.id,
            "name": s.name or "-",
            "service-type": s.service_type or "-",
            "protocol": s.protocol or "-",
            "app-type": s.app_type or "-",
            "url": s.url or "-",
        }
        for s in schemas
    ]
    return render_table(SCHEMA_COLUMNS, rows, chosen=columns, wide=wide, width=width)


def schema_detail(schema: Schema) -> str:
    return table(schema.to_dict().items(), ("FIELD", "VALUE"))
