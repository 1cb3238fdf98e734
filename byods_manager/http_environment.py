"""What requests takes from the environment, read once per session instead of per request.

A ``requests.Session`` that trusts the environment looks up proxies (``HTTPS_PROXY``,
``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY`` in either case), the CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) and ``~/.netrc`` on every request, which cost
a bulk run about half a millisecond of CPU per request. :class:`EnvironmentSettings` asks
requests' own functions the same questions once per origin (scheme and host) and hands the
answers to a session with ``trust_env`` off, so the rules stay requests' own.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from dataclasses import dataclass

from requests.utils import get_environ_proxies, get_netrc_auth

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class OriginSettings:
    """The keyword arguments requests would have derived for one origin."""

    proxies: dict[str, str]
    auth: tuple[str, str] | None


def ca_bundle_from_environment() -> str | bool:
    """``verify`` as requests derives it for a session whose own ``verify`` is True."""
    for name in CA_BUNDLE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value
    return True


class EnvironmentSettings:
    """Per-origin proxy and netrc settings plus the CA bundle, each looked up once."""

    def __init__(self) -> None:
        self.verify = ca_bundle_from_environment()
        self._origins: dict[tuple[str, str], OriginSettings] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str) -> OriginSettings:
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc)
        settings = self._origins.get(key)
        if settings is None:
            settings = OriginSettings(proxies=dict(get_environ_proxies(url)), auth=_netrc_auth(url))
            with self._lock:
                settings = self._origins.setdefault(key, settings)
        return settings


def _netrc_auth(url: str) -> tuple[str, str] | None:
    found = get_netrc_auth(url)
    return (found[0], found[1]) if found else None
