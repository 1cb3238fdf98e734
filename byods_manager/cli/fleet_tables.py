"""The columns of the tables that cover many orgs: `list --all-orgs`, `token status
--all-orgs` and `orgs list`.

Like every table they fit the terminal (see tables.py): columns in priority order, the org
first, an org id (87 characters for a real Webex org) last, whole or left out, never cut.
"""

from __future__ import annotations

from .render import DATA_SOURCE_COLUMNS
from .tables import Column

ORG = Column("org", "ORG")
ORG_ID = Column("org-id", "ORG ID", shrinkable=False)

ALL_ORGS_DATA_SOURCE_COLUMNS = (ORG, *DATA_SOURCE_COLUMNS)

CHECK = Column("check", "CHECK", shrinkable=False)
TOKEN_EXPIRY_COLUMNS = (
    Column("access", "ACCESS TOKEN EXPIRES", shrinkable=False),
    Column("refresh", "REFRESH TOKEN EXPIRES", shrinkable=False),
)


def token_status_columns(with_check: bool) -> tuple[Column, ...]:
    """The org, the ``--check`` result when asked for, both expiries, the org id."""
    return (ORG, *((CHECK,) if with_check else ()), *TOKEN_EXPIRY_COLUMNS, ORG_ID)


ORGS_COLUMNS = (
    ORG,
    Column("status", "STATUS", shrinkable=False),
    Column("token-expires", "TOKEN EXPIRES", shrinkable=False),
    Column("source", "SOURCE"),
    Column("added", "ADDED", shrinkable=False),
    ORG_ID,
)
