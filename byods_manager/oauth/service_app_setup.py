"""Make sure the profile names its service app before the wizard looks for tokens.

A missing file, or a ``serviceApp`` section with empty fields, is filled in by asking
(the client secret with a hidden prompt); without a terminal it is a config error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import read_json
from ..tokens.config import ProfileConfig, load_config, string_value
from ..tokens.config_keys import SERVICE_APP_FIELDS, lookup, select_profile
from .config_writer import update_token_config
from .prompter import Prompter

# (field, question, hidden)
SERVICE_APP_QUESTIONS = (
    ("appId", "Service app ID (developer.webex.com > My Webex Apps)", False),
    ("clientId", "Service app client ID", False),
    ("clientSecret", "Service app client secret", True),
    ("targetOrgId", "Target org ID (the org whose full admin authorized the service app)", False),
)


def missing_service_app_fields(config_path: Path, profile: str | None) -> list[str]:
    """Which ``serviceApp`` fields the profile lacks (all of them when the file is missing)."""
    if not config_path.exists():
        return [name for name, _, _ in SERVICE_APP_QUESTIONS]
    raw: Any = read_json(config_path, what="config file")
    section, _ = select_profile(raw, profile)
    return [
        name
        for name, _, _ in SERVICE_APP_QUESTIONS
        if string_value(lookup(section, SERVICE_APP_FIELDS[name])) is None
    ]


def ensure_service_app(config_path: Path, profile: str | None, prompter: Prompter) -> ProfileConfig:
    missing = missing_service_app_fields(config_path, profile)
    if missing:
        where = (
            "does not exist"
            if not config_path.exists()
            else "lacks " + ", ".join(f"serviceApp.{name}" for name in missing)
        )
        if not prompter.interactive:
            raise ConfigError(
                f"{config_path} {where}; run `byods auth setup` in a terminal to fill it in, "
                "or add the serviceApp section (appId, clientId, clientSecret, targetOrgId)"
            )
        prompter.say(f"{config_path} {where}. Enter the service app's details:")
        answers = {
            name: prompter.ask(question, secret=hidden)
            for name, question, hidden in SERVICE_APP_QUESTIONS
            if name in missing
        }
        update_token_config(config_path, profile=profile, service_app=answers)
    return load_config(config_path, profile, warn=prompter.warn)
