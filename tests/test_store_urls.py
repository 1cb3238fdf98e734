"""Store locations that look like URLs: a slightly-off scheme is refused (never a file), and
no error about a URL, however malformed, shows its password."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byods_manager.errors import ByodsError, ConfigError
from byods_manager.stores.select import open_store, store_location
from byods_manager.stores.urls import looks_like_url, redact_text, redact_url

RunCli = Callable[..., Result]
PASSWORD = "pw-SECRET-91"
OFF_SCHEMES = [
    f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:55432/byods",
    f"postgres+psycopg://postgres:{PASSWORD}@127.0.0.1:55432/byods",
    f"pgsql://postgres:{PASSWORD}@127.0.0.1:55432/byods",
    f"postgresql:/postgres:{PASSWORD}@127.0.0.1:55432/byods",
    f"pgsql:postgres:{PASSWORD}@127.0.0.1/byods",
    f'"postgresql://postgres:{PASSWORD}@127.0.0.1:55432/byods"',
]


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


# -- 1. a URL that is slightly off is refused, never a file ------------------------------


@pytest.mark.parametrize("location", OFF_SCHEMES)
@pytest.mark.parametrize(
    "args",
    [["token", "refresh"], ["token", "status"], ["store", "status"], ["store", "migrate"]],
    ids=" ".join,
)
def test_an_unsupported_store_url_is_a_config_error_and_never_a_file(
    run_cli: RunCli,
    tokens_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    location: str,
    args: list[str],
) -> None:
    config = tokens_config()
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    result = run_cli(["--config", str(config), "--store", location, *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: unsupported store URL"), result.output
    assert "use postgresql://" in result.output and "or a file path" in result.output
    assert result.output.count("\n") == 1, result.output
    assert PASSWORD not in result.output
    assert files_under(workdir) == []


@pytest.mark.parametrize("location", OFF_SCHEMES[:2])
def test_an_unsupported_url_in_the_environment_or_config_is_refused_too(
    run_cli: RunCli,
    tokens_config: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    location: str,
) -> None:
    from tests.fixtures_tokens import profile_dict

    monkeypatch.chdir(tmp_path)
    data = profile_dict()
    data["tokenStore"] = location
    config = tokens_config(data)
    from_config = run_cli(["--config", str(config), "token", "refresh"])
    monkeypatch.setenv("BYODS_STORE", location)
    from_env = run_cli(["store", "status"])
    for result in (from_config, from_env):
        assert result.exit_code == 2, result.output
        assert "unsupported store URL" in result.output and PASSWORD not in result.output
    assert not [path for path in files_under(tmp_path) if "127.0.0.1" in str(path)]


@pytest.mark.parametrize(
    "path",
    ["tokens:v2.json", "./odd:/tokens.json", "plain.json", "sub/dir/t.json"],
)
def test_paths_with_colons_and_relative_paths_stay_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert not looks_like_url(path)
    store = open_store(store_location(path))
    with store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        store.save(data)
    assert store.backend == "file" and (tmp_path / path).is_file()


@pytest.mark.parametrize(
    "text",
    ["C:/Users/me/tokens.json", "/srv/byods/tokens.json", "~/tokens.json", "t:1.json"],
)
def test_drive_letters_and_ordinary_paths_are_not_urls(text: str) -> None:
    assert not looks_like_url(text)


def test_open_store_refuses_the_unsupported_url_itself() -> None:
    with pytest.raises(ConfigError, match="unsupported store URL scheme 'pgsql://'") as caught:
        open_store(OFF_SCHEMES[2])
    assert PASSWORD not in str(caught.value)


def test_an_upper_case_scheme_is_accepted_and_its_password_not_echoed() -> None:
    url = f"POSTGRESQL://byods:{PASSWORD}@127.0.0.1:1/byods?connect_timeout=2"
    store = open_store(url)
    assert store.backend == "postgres"
    with pytest.raises(ByodsError) as caught:
        store.load()
    assert caught.value.exit_code == 1 and PASSWORD not in str(caught.value)


# -- 2. no error text shows the password -------------------------------------------------


@pytest.mark.parametrize("password", [PASSWORD, "sekr%40itPW9"])
def test_a_malformed_url_error_does_not_show_the_password(run_cli: RunCli, password: str) -> None:
    url = f"postgresql://postgres:{password}@[::1:55432/byods"
    result = run_cli(["--store", url, "store", "status"])
    assert result.exit_code == 2, result.output
    assert "is not usable" in result.output and "postgres:***@" in result.output
    assert password not in result.output and "sekr@itPW9" not in result.output


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('in URI: "postgresql://u:pw@[::1:5/db"', 'in URI: "postgresql://u:***@[::1:5/db"'),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss@h/db?x=a@b", "postgresql://u:***@b"),  # more, never less
        ("postgresql://u:p?ss@h/db", "postgresql://u:***@h/db"),
        (
            "x postgresql://h/db?sslpassword=s3&user=u y",
            "x postgresql://h/db?sslpassword=***&user=u y",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_userinfo_is_masked_in_any_text_without_parsing_it(text: str, shown: str) -> None:
    assert redact_text(text) == shown


# Printable characters a password may hold (``*`` left out: the mask itself is made of it).
PASSWORDS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="*"),
    min_size=8,
    max_size=24,
)


def url_shapes(password: str) -> list[str]:
    """Ways a URL holding ``password`` can fail before any server answers. A raw password
    may end the userinfo early (a ``/``); libpq then takes the user name as the host, so
    that user is ``localhost`` (nothing to look up in DNS)."""
    encoded = quote(password, safe="")
    return [
        f"postgresql://postgres:{encoded}@[::1:55432/byods",  # malformed host
        f"postgresql://localhost:{password}@127.0.0.1:1/byods?connect_timeout=2",  # raw
        f"postgresql://postgres:{encoded}@127.0.0.1:1/byods?connect_timeout=2",  # unreachable
        f"postgresql://postgres@127.0.0.1:1/byods?password={encoded}&bogus=1",  # bad parameter
        f"postgres+psycopg://postgres:{encoded}@127.0.0.1:1/byods",  # unsupported scheme
        f"pgsql:localhost:{password}@127.0.0.1/byods",
    ]


def store_texts(url: str) -> list[str]:
    """What the user may see of a store at ``url``: its location and its error."""
    texts = []
    try:
        store = open_store(url)
        texts.append(store.location)
        store.load()
    except ByodsError as exc:
        texts.append(str(exc))
    else:  # pragma: no cover - nothing listens on port 1
        pytest.fail(f"{redact_url(url)} was usable")
    return texts


@functools.cache
def message_context() -> str:
    """The messages' own words (with a stand-in password): a password that is one of
    them (``postgres``) proves nothing when it shows up."""
    return " ".join(text for url in url_shapes("Q") for text in store_texts(url))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=PASSWORDS.filter(lambda password: password not in message_context()))
def test_no_store_error_contains_the_password(password: str) -> None:
    forms = {password, quote(password, safe="")}
    for url in url_shapes(password):
        for text in store_texts(url):
            assert not any(form in text for form in forms), (url, text)


@pytest.mark.parametrize("direction", ["--from", "--to"])
def test_store_copy_refuses_an_unsupported_url_on_either_side(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(str(tmp_path / "a.json"))
    with store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        store.save(data)
    other = "--to" if direction == "--from" else "--from"
    result = run_cli(["store", "copy", direction, OFF_SCHEMES[0], other, str(tmp_path / "a.json")])
    assert result.exit_code == 2 and "unsupported store URL" in result.output, result.output
    assert PASSWORD not in result.output
    assert not [path for path in files_under(tmp_path) if "127.0.0.1" in str(path)]
