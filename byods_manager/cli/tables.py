"""Tables that fit the terminal: columns by priority, long cells shortened with an ellipsis.

The width is ``$COLUMNS``, else the terminal's; with neither (output piped into a file
or another program) nothing is cut. ``--wide`` shows every column in full, ``--columns``
picks columns by name, in the order given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import click

from ..errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

GAP = 2  # tabulate's "simple" format puts two spaces between columns
HEADER_PADDING = 2  # and makes each column at least this much wider than its header
ELLIPSIS = "…"
MIN_SHRUNK = 10  # a shortened cell keeps at least this many characters


class Column(NamedTuple):
    """``key`` is the name for ``--columns``; columns are listed in priority order."""

    key: str
    header: str
    shrinkable: bool = True
    default: bool = True  # shown without --wide/--columns (when it fits)


def table_options(func: F) -> F:
    """``--wide`` and ``--columns`` for a command that prints a table."""
    func = click.option(
        "--columns",
        "columns",
        metavar="A,B,C",
        help="Show only these columns, in this order (e.g. id,status,url; an unknown name "
        "lists them all).",
    )(func)
    return click.option(
        "--wide", is_flag=True, help="Show every column in full, whatever the terminal width."
    )(func)


def output_width() -> int | None:
    """``$COLUMNS``, else the terminal's width, else None (not a terminal: no limit)."""
    from_env = os.environ.get("COLUMNS", "")
    if from_env.isdigit() and int(from_env) > 0:
        return int(from_env)
    try:
        if sys.stdout.isatty():
            import shutil

            return shutil.get_terminal_size().columns
    except (AttributeError, ValueError, OSError):
        pass
    return None


def _pick(columns: Sequence[Column], chosen: str | None, wide: bool) -> list[Column]:
    if chosen is None:
        return list(columns) if wide else [c for c in columns if c.default]
    by_key = {column.key: column for column in columns}
    by_key |= {column.header.lower().replace(" ", "-"): column for column in columns}
    names = [name.strip().lower() for name in chosen.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_key]
    if unknown or not names:
        known = ",".join(column.key for column in columns)
        raise InputError(
            f"--columns: unknown column {', '.join(unknown) or '(none)'}; use: {known}"
        )
    return [by_key[name] for name in names]


def check_columns(columns: Sequence[Column], chosen: str | None) -> None:
    """Raise the ``--columns`` error (exit 2) now, before any request is sent."""
    _pick(columns, chosen, wide=False)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def _fit(columns: list[Column], rows: list[list[str]], width: int) -> tuple[list[int], list[int]]:
    """(indexes of the columns kept, their widths) so that the table fits ``width``."""
    headers = [len(column.header) + HEADER_PADDING for column in columns]
    natural = [max([headers[i], *(len(row[i]) for row in rows)]) for i in range(len(columns))]
    minimum = [
        min(natural[i], max(headers[i], MIN_SHRUNK)) if column.shrinkable else natural[i]
        for i, column in enumerate(columns)
    ]
    kept: list[int] = []
    for index in range(len(columns)):
        needed = sum(minimum[i] for i in kept) + minimum[index] + GAP * len(kept)
        if needed <= width or not kept:
            kept.append(index)
    widths = [natural[i] for i in kept]
    excess = sum(widths) + GAP * (len(kept) - 1) - width
    while excess > 0:
        room = [(widths[j] - minimum[i], j) for j, i in enumerate(kept) if widths[j] > minimum[i]]
        if not room:
            break
        _, widest = max(room)
        widths[widest] -= 1
        excess -= 1
    return kept, widths


def render_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, str]],
    *,
    chosen: str | None = None,
    wide: bool = False,
    width: int | None = None,
) -> str:
    """The rows (dicts by column key) as a table that fits ``width`` (None: no limit)."""
    from tabulate import tabulate

    picked = _pick(columns, chosen, wide)
    cells = [[row.get(column.key) or "-" for column in picked] for row in rows]
    if width is not None and not wide:
        kept, widths = _fit(picked, cells, width)
        picked = [picked[i] for i in kept]
        cells = [[_shorten(row[i], w) for i, w in zip(kept, widths, strict=True)] for row in cells]
    return tabulate(
        cells,
        headers=[column.header for column in picked],
        tablefmt="simple",
        disable_numparse=True,
    )
