"""The token store's ``webhookSecrets`` section: saved 0600, and kept intact by everything
else that rewrites the store (token refreshes, onboarding)."""

from __future__ import annotations

import json
from pathlib import Path

from byods_manager.sandbox import Sandbox
from byods_manager.tokens import webhook_secrets
from byods_manager.tokens.config import load_config
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import TokenStore

URL = "https://dap.example.com/webhooks/service-app"


def test_save_load_and_update(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    assert webhook_secrets.load(store, URL) is None
    assert webhook_secrets.load_all(store) == []
    webhook_secrets.save(store, URL, "first-secret-000000", ["w1", "w2"])
    webhook_secrets.save(store, URL, "second-secret-00000")  # ids kept
    saved = webhook_secrets.load(store, URL)
    assert saved is not None
    assert (saved.secret, saved.webhook_ids) == ("second-secret-00000", ["w1", "w2"])
    assert "second-secret" not in repr(saved)
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_unreadable_entries_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "webhookSecrets": {
                    "a": {"secret": 5},
                    "b": "text",
                    "c": {"secret": "good-secret-0000000", "webhookIds": "x"},
                },
            }
        )
    )
    found = webhook_secrets.load_all(TokenStore(path))
    assert [(entry.target_url, entry.webhook_ids) for entry in found] == [("c", [])]


def test_token_refreshes_keep_the_section(sandbox: Sandbox, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    webhook_secrets.save(store, URL, "kept-secret-0000000", ["w1"])
    config = load_config(sandbox.write_config(tmp_path / "token-config.json"))
    manager = TokenManager(config, base_url=sandbox.base_url, store=store)
    manager.refresh(force=True)
    manager.refresh(force=True)
    manager.close()
    saved = webhook_secrets.load(store, URL)
    assert saved is not None and saved.secret == "kept-secret-0000000"
    assert config.service_app.store_key in store.load().service_apps
