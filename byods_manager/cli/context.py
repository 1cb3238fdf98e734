"""What every command shares: resolved options and lazily built library objects."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..paths import locate_config, resolve_base_url
from ..secrets import scrub_text

if TYPE_CHECKING:
    from ..audit import AuditLog
    from ..auth import TokenProvider
    from ..client import DataSourceClient
    from ..deadline import Deadline
    from ..environments import Environment
    from ..fleet.orgs import Fleet
    from ..http import HttpClient, Pacer
    from ..tokens.manager import TokenManager


class AppContext:
    """The global options of one run and the objects built from them on first use.

    A plain class rather than a dataclass: every command builds it at start-up, where a
    dataclass costs about half a millisecond to define.
    """

    def __init__(
        self,
        *,
        config_option: str | None = None,
        profile: str | None = None,
        base_url_option: str | None = None,
        verbose: int = 0,
        audit_log_option: str | None = None,
        timeout_option: str | None = None,
        env_option: str | None = None,
        org_option: str | None = None,
        store_option: str | None = None,
    ) -> None:
        self.config_option = config_option
        self.profile = profile
        self.base_url_option = base_url_option
        self.verbose = verbose
        self.audit_log_option = audit_log_option
        self.timeout_option = timeout_option
        self.env_option = env_option
        self.org_option = org_option
        self.store_option = store_option
        self._cache: dict[str, Any] = {}

    @property
    def environment(self) -> Environment:
        """--env, else $BYODS_ENV, else the one a given base URL belongs to, else production."""
        import os

        from ..environments import resolve_environment

        given = self.base_url_option or os.environ.get("WEBEX_API_BASE_URL")
        return resolve_environment(self.env_option, base_url=given)

    @property
    def base_url(self) -> str:
        from ..base_url import warn_if_not_webex

        url = resolve_base_url(self.base_url_option, default=self.environment.api_base_url)
        warn_if_not_webex(url, self.warn)
        return url

    @property
    def deadline(self) -> Deadline:
        """The whole command's deadline (``--timeout``), started when first asked for."""
        if "deadline" not in self._cache:
            from ..deadline import DEFAULT_COMMAND_TIMEOUT_SECONDS, Deadline
            from ..durations import parse_duration

            seconds = DEFAULT_COMMAND_TIMEOUT_SECONDS
            if self.timeout_option:
                seconds = parse_duration(self.timeout_option).total_seconds()
            label = f"--timeout {self.timeout_option}" if self.timeout_option else ""
            self._cache["deadline"] = Deadline(seconds, label=label)
        result: Deadline = self._cache["deadline"]
        return result

    def describe_environment(self) -> str:
        from ..environments import describe_environment

        return describe_environment(self.environment, self.base_url)

    @property
    def config_path(self) -> Path:
        """The config file; under ``-v`` the first lookup says which one and why."""
        if "config_path" not in self._cache:
            path, source = locate_config(self.config_option)
            self._cache["config_path"] = path
            self.notify(f"Using config {path} (from {source}).")
        result: Path = self._cache["config_path"]
        return result

    def notify(self, message: str) -> None:
        """A progress note for people: shown on stderr in verbose mode only."""
        if self.verbose:
            click.echo(scrub_text(message), err=True)

    def warn(self, message: str) -> None:
        click.echo(f"Warning: {scrub_text(message)}", err=True)

    def token_provider(self) -> TokenProvider:
        """$WEBEX_SERVICE_APP_ACCESS_TOKEN if set, else the token manager over the config."""
        if "provider" not in self._cache:
            from ..auth import provider_from_environment

            provider: TokenProvider | None = provider_from_environment()
            if provider is None:
                provider = self.token_manager()
            self._cache["provider"] = provider
        result: TokenProvider = self._cache["provider"]
        return result

    def fleet(self) -> Fleet:
        """Every org of the config's service app (see :mod:`byods_manager.fleet.orgs`)."""
        if "fleet" not in self._cache:
            from ..fleet.orgs import Fleet
            from ..stores.select import open_config_store
            from ..tokens.config import load_config

            config = load_config(self.config_path, self.profile, warn=self.warn)
            self._cache["fleet"] = Fleet(
                config,
                base_url=self.base_url,
                store=open_config_store(
                    config, self.store_option, warn=self.warn, deadline=self.deadline
                ),
                notify=self.notify,
                warn=self.warn,
                deadline=self.deadline,
            )
        fleet: Fleet = self._cache["fleet"]
        return fleet

    def token_manager(self) -> TokenManager:
        if "manager" not in self._cache and self.org_option:
            fleet = self.fleet()
            self._cache["manager"] = fleet.token_manager(fleet.resolve(self.org_option).org_id)
        if "manager" not in self._cache:
            from ..tokens.manager import TokenManager

            self._cache["manager"] = TokenManager.from_config(
                self.config_path,
                profile=self.profile,
                base_url=self.base_url,
                notify=self.notify,
                warn=self.warn,
                deadline=self.deadline,
                store=self.store_option,
            )
        manager: TokenManager = self._cache["manager"]
        return manager

    def store_location(self) -> str:
        """--store, else $BYODS_STORE/$BYODS_TOKEN_STORE, else the config's tokenStore (when
        a config exists), else the default file."""
        from ..stores.select import configured_store, store_location

        if self.store_option:
            return store_location(self.store_option)
        return store_location(None, configured_store(self.config_path, self.profile, self.warn))

    def http(self) -> HttpClient:
        if "http" not in self._cache:
            from ..http import HttpClient

            self._cache["http"] = HttpClient(
                self.base_url, self.token_provider(), notify=self.notify, deadline=self.deadline
            )
        result: HttpClient = self._cache["http"]
        return result

    def audit(self) -> AuditLog:
        if "audit" not in self._cache:
            from ..audit import AuditLog

            self._cache["audit"] = AuditLog.open(self.audit_log_option)
        result: AuditLog = self._cache["audit"]
        return result

    def client(self) -> DataSourceClient:
        if "client" not in self._cache:
            from ..client import DataSourceClient
            from ..schema_cache import SchemaCache

            self._cache["client"] = DataSourceClient(
                self.http(),
                audit=self.audit(),
                schema_cache=SchemaCache.for_base_url(self.base_url),
            )
        result: DataSourceClient = self._cache["client"]
        return result

    def client_factory(self, pacer: Pacer | None = None) -> Callable[[str], DataSourceClient]:
        """Makes a client with its own HTTP session for an org id (for worker threads);
        ``""`` means the org this run selected (--org, else the config's)."""
        from ..client import DataSourceClient
        from ..http import HttpClient
        from ..schema_cache import SchemaCache

        audit = self.audit()
        schemas = SchemaCache.for_base_url(self.base_url)
        deadline = self.deadline  # made here, in the calling thread, not in each worker
        building = threading.Lock()  # worker threads must not each build a provider

        def make(org_id: str) -> DataSourceClient:
            with building:
                if org_id:
                    return self.fleet().client_for_org(
                        org_id, audit=audit, schema_cache=schemas, pacer=pacer
                    )
                provider = self.token_provider()
            http = HttpClient(
                self.base_url, provider, notify=self.notify, pacer=pacer, deadline=deadline
            )
            return DataSourceClient(http, audit=audit, schema_cache=schemas)

        return make


pass_app = click.make_pass_decorator(AppContext)
