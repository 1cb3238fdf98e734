"""byods-manager: manage Webex BYODS data sources and keep their tokens alive.

Public names are imported lazily so that ``byods --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "DataSourceClient": "byods_manager.client",
    "DataSource": "byods_manager.models",
    "Schema": "byods_manager.models",
    "HttpClient": "byods_manager.http",
    "RetryPolicy": "byods_manager.http",
    "StaticTokenProvider": "byods_manager.auth",
    "TokenProvider": "byods_manager.auth",
    "TokenManager": "byods_manager.tokens.manager",
    "ByodsError": "byods_manager.errors",
    "ApiError": "byods_manager.errors",
    "NotFoundError": "byods_manager.errors",
    "InputError": "byods_manager.errors",
    "ConfigError": "byods_manager.errors",
    "AuthRequiredError": "byods_manager.errors",
    "TransportError": "byods_manager.errors",
    "AmbiguousRequestError": "byods_manager.errors",
    "decode_jws": "byods_manager.jws",
    "Fleet": "byods_manager.fleet.orgs",
    "SharedPacer": "byods_manager.fleet.pacing",
    "extend_orgs": "byods_manager.fleet.extend",
    "OrgRecord": "byods_manager.stores.orgs",
    "app_id_for_client": "byods_manager.webex_ids",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'byods_manager' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
