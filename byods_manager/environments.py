"""Webex environments: which API base URL and which identity brokers belong together.

``production`` is what customers use; ``integration`` is Webex's developer test
environment. A data-source JWS is signed by the identity broker (``iss``) of the
environment and region that holds the org, and its keys are published at
``{iss}/oauth2/v2/keys/verificationjwk``.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from .errors import ConfigError

ENV_VARIABLE = "BYODS_ENV"
JWKS_PATH = "/oauth2/v2/keys/verificationjwk"


class Environment(NamedTuple):
    """An API base URL and the identity brokers that belong to it (a NamedTuple: it is
    built at import on every command's start-up path, where a dataclass costs more)."""

    name: str
    api_base_url: str
    # The US identity broker; the regional ones are in ``issuer_hosts``.
    issuer: str
    issuer_hosts: tuple[str, ...]

    def trusts_issuer(self, issuer: str) -> bool:
        """True when ``issuer`` is exactly ``https://<one of our brokers>/idb``."""
        match = _ISSUER.fullmatch(issuer)
        return match is not None and match.group(1) in self.issuer_hosts


# Scheme, one host (no port, no user info) and exactly the path /idb: nothing else matches,
# so ``https://idbroker.webex.com.evil.example/idb`` or ``.../idb/../x`` never does.
_ISSUER = re.compile(r"https://([a-z0-9-]+\.webex\.com)/idb")

PRODUCTION = Environment(
    name="production",
    api_base_url="https://webexapis.com/v1",
    issuer="https://idbroker.webex.com/idb",
    issuer_hosts=(
        "idbroker.webex.com",  # US
        "idbroker-b-us.webex.com",  # US (second cluster)
        "idbroker-eu.webex.com",  # EU
        "idbroker-ca.webex.com",  # Canada
    ),
)
INTEGRATION = Environment(
    name="integration",
    api_base_url="https://integration.webexapis.com/v1",
    issuer="https://idbrokerbts.webex.com/idb",
    issuer_hosts=("idbrokerbts.webex.com", "idbrokerbts-eu.webex.com"),
)
ENVIRONMENTS = {env.name: env for env in (PRODUCTION, INTEGRATION)}
# Every Webex identity broker, in either environment.
ALL_WEBEX = Environment(
    name="any",
    api_base_url=PRODUCTION.api_base_url,
    issuer=PRODUCTION.issuer,
    issuer_hosts=PRODUCTION.issuer_hosts + INTEGRATION.issuer_hosts,
)


def get_environment(name: str) -> Environment:
    found = ENVIRONMENTS.get(name.strip().lower())
    if found is None:
        choices = ", ".join(ENVIRONMENTS)
        raise ConfigError(f"unknown Webex environment {name!r}: choose one of {choices}")
    return found


def resolve_environment(explicit: str | None = None, base_url: str | None = None) -> Environment:
    """--env, else $BYODS_ENV, else the one whose API ``base_url`` was given, else production."""
    name = explicit or os.environ.get(ENV_VARIABLE)
    if name:
        return get_environment(name)
    given = (base_url or "").rstrip("/")
    for env in ENVIRONMENTS.values():
        if given == env.api_base_url:
            return env
    return PRODUCTION


def describe_environment(env: Environment, base_url: str) -> str:
    """``production (https://webexapis.com/v1)``, noting a base URL set by hand."""
    if base_url.rstrip("/") == env.api_base_url:
        return f"{env.name} ({base_url})"
    return f"{env.name} (API base URL overridden: {base_url})"
