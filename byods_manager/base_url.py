"""What a Webex API base URL may be: long-lived secrets are sent to it.

``https://`` anywhere; ``http://`` only to this machine (the sandbox, tests). A host that is
not a Webex host is allowed (proxies, the sandbox) but warned about once.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Callable

from .errors import InputError

WEBEX_HOST_SUFFIXES = ("webexapis.com", "webex.com", "ciscospark.com")
_warned: set[str] = set()


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_webex_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == suffix or host.endswith("." + suffix) for suffix in WEBEX_HOST_SUFFIXES)


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, or InputError (exit 2) when secrets must not go there."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https") or not parsed.hostname:
        raise InputError(
            f"the Webex API base URL {url!r} must start with https:// "
            "(e.g. https://webexapis.com/v1); check --base-url / WEBEX_API_BASE_URL"
        )
    if scheme == "http" and not is_loopback_host(parsed.hostname):
        raise InputError(
            f"the Webex API base URL {url!r} uses http:// to another host, which would send "
            "every token and client secret in clear text; use https:// "
            "(http:// is accepted only for this machine, e.g. the sandbox)"
        )
    if parsed.query or parsed.fragment:
        raise InputError(f"the Webex API base URL {url!r} must not have a query or fragment")
    return url.rstrip("/")


def warn_if_not_webex(url: str, warn: Callable[[str], None]) -> None:
    """Warn once per process when secrets are about to go to a host that is not Webex's."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if is_webex_host(host) or is_loopback_host(host) or host in _warned:
        return
    _warned.add(host)
    warn(
        f"the API base URL {url} is not a Webex host; tokens and client secrets will be sent there"
    )


def same_origin_below(base_url: str, url: str) -> bool:
    """True when ``url`` has the base URL's scheme, host and port and lies below its path."""
    base = urllib.parse.urlsplit(base_url)
    target = urllib.parse.urlsplit(url)
    prefix = base.path.rstrip("/") + "/"
    return (
        target.scheme.lower() == base.scheme.lower()
        and (target.hostname or "").lower() == (base.hostname or "").lower()
        and _port(target) == _port(base)
        and (target.path + "/").startswith(prefix)
    )


def _port(parts: urllib.parse.SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        return -1
    if port is not None:
        return port
    return {"http": 80, "https": 443}.get(parts.scheme.lower())
