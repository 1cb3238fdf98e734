"""Store locations: is it a PostgreSQL URL, a path, or a URL this tool cannot use; and how
to show any of them (or a driver's message about them) without a password.

The rule (README "Shared store on PostgreSQL", TOKEN_MANAGEMENT.md "Selection"):
``postgresql://`` or ``postgres://`` (any letter case) opens PostgreSQL. Anything else that
looks like a URL is refused, never taken as a file name: text containing ``://``, text
starting ``<scheme>:/`` (a scheme is a letter followed by letters, digits, ``+``, ``-`` or
``.``; one letter is a Windows drive, ``C:/...``, so a path), and text starting with a
PostgreSQL-like scheme (``postgres…:``, ``pgsql…:``, ``psql:``, ``pg:``). Every other text
is a file path, colons included (``tokens:v2.json``); a path that would look like a URL is
written ``./name:/...``.

Masking does not parse the URL (the text may be malformed): in every URL-looking word
the userinfo's password becomes ``***``, and so do ``password=``/``sslpassword=`` values.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
MASK = "***"
_SECRET_PARAMS = ("password", "sslpassword")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(/*)")
_PG_LIKE_SCHEME = re.compile(r"(postgres|pgsql|psql$|pg$)", re.IGNORECASE)
# A word of a message: what a URL can span (quotes and whitespace end it).
_WORD = re.compile(r"""[^\s"'<>`]+""")
_SECRET_PARAM = re.compile(
    r"(?P<key>(?<![A-Za-z0-9_])(?:" + "|".join(_SECRET_PARAMS) + r")=)(?P<value>[^&#\s\"']*)",
    re.IGNORECASE,
)


class UnsupportedStoreUrlError(ValueError):
    """The location looks like a URL but is not a PostgreSQL URL this tool supports."""


def is_postgres_url(text: str) -> bool:
    return text.strip().lower().startswith(POSTGRES_SCHEMES)


def looks_like_url(text: str) -> bool:
    """True for text that must not be taken as a file path (see the module docstring)."""
    text = text.strip()
    if "://" in text:
        return True
    found = _SCHEME.match(text)
    if found is None or len(found.group(1)) == 1:
        return False
    return bool(found.group(2)) or _PG_LIKE_SCHEME.match(found.group(1)) is not None


def check_location(text: str) -> None:
    """Raise :class:`UnsupportedStoreUrlError` (with a message safe to print) for a URL-looking
    location that is not a supported PostgreSQL URL."""
    if is_postgres_url(text) or not looks_like_url(text):
        return
    found = _SCHEME.match(text.strip())
    prefix = f"scheme {found.group(0)!r} " if found else ""
    raise UnsupportedStoreUrlError(
        f"unsupported store URL {prefix}in {redact_url(text.strip())}; use "
        "postgresql://USER@HOST[:PORT]/DBNAME (or postgres://...) or a file path"
    )


def canonical_postgres_url(url: str) -> str:
    """``url`` with its scheme in lower case (libpq knows only ``postgresql://`` and
    ``postgres://``, and would echo any other spelling, password included)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    return f"{scheme.lower()}{sep}{rest}"


def redact_url(url: str) -> str:
    """The URL as it may be printed: a password (in the userinfo or the query) becomes ***."""
    shown = _redact_word(url.strip())
    for form in password_forms(url):
        shown = shown.replace(form, MASK)
    return shown


def redact_text(text: str) -> str:
    """``text`` (a URL, or a message quoting one) with every URL password masked; works on
    URLs no parser accepts."""
    return _WORD.sub(lambda word: _redact_word(word.group(0)), text)


def _redact_word(word: str) -> str:
    word = _SECRET_PARAM.sub(lambda found: found.group("key") + MASK, word)
    found = _SCHEME.search(word)
    if found is None:
        return word
    start = found.end()
    at = _userinfo_end(word, start)
    if at < 0:
        return word
    user, colon, _password = word[start:at].partition(":")
    if not colon:
        return word
    return f"{word[:start]}{user}:{MASK}{word[at:]}"


def _userinfo_end(word: str, start: int) -> int:
    """Where the userinfo ends: the last ``@`` (a password may hold raw ``@``, ``/``, ``?``
    or ``#``; an ``@`` further on, in the query, only masks more); -1 without one."""
    return word.rfind("@", start)


def url_password(url: str) -> str | None:
    """The password written in the URL (the userinfo's, else a ``password=`` parameter),
    as written there; found without parsing, so malformed URLs are covered too."""
    found: str | None = None
    url = url.strip()
    scheme = _SCHEME.match(url)
    if scheme is not None:
        at = _userinfo_end(url, scheme.end())
        if at >= 0:
            _user, colon, password = url[scheme.end() : at].partition(":")
            found = password if colon and password else None
    for match in _SECRET_PARAM.finditer(url):
        if match.group("value"):
            found = found or match.group("value")
    return found


def password_forms(url: str) -> list[str]:
    """Every spelling of the URL's passwords a message might carry: as written, decoded
    and encoded (longest first, so a replacement never leaves a part behind)."""
    forms: set[str] = set()
    values = [url_password(url)]
    values += [m.group("value") for m in _SECRET_PARAM.finditer(url.strip())]
    for value in values:
        if value:
            forms |= {value, unquote(value), quote(unquote(value), safe="")}
    return sorted((form for form in forms if form), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) without ``url``'s password in any form."""
    text = redact_text(text)
    for form in password_forms(url):
        text = text.replace(form, MASK)
    return text
