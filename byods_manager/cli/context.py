"""What every command shares: resolved options and lazily built library objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..paths import locate_config, resolve_base_url

if TYPE_CHECKING:
    from ..audit import AuditLog
    from ..auth import TokenProvider
    from ..client import DataSourceClient
    from ..http import HttpClient
    from ..tokens.manager import TokenManager


@dataclass
class AppContext:
    config_option: str | None = None
    profile: str | None = None
    base_url_option: str | None = None
    verbose: int = 0
    audit_log_option: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return resolve_base_url(self.base_url_option)

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
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        click.echo(f"Warning: {message}", err=True)

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

    def token_manager(self) -> TokenManager:
        if "manager" not in self._cache:
            from ..tokens.manager import TokenManager

            self._cache["manager"] = TokenManager.from_config(
                self.config_path,
                profile=self.profile,
                base_url=self.base_url,
                notify=self.notify,
                warn=self.warn,
            )
        manager: TokenManager = self._cache["manager"]
        return manager

    def http(self) -> HttpClient:
        if "http" not in self._cache:
            from ..http import HttpClient

            self._cache["http"] = HttpClient(
                self.base_url, self.token_provider(), notify=self.notify
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


pass_app = click.make_pass_decorator(AppContext)
