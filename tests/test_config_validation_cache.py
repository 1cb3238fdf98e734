"""An unchanged config is validated once; later runs skip jsonschema (start-up cost)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from byods_manager.errors import ConfigError
from byods_manager.tokens.config import load_config
from tests.fixtures_tokens import profile_dict

PROBE = """
import sys
from byods_manager.tokens.config import load_config
warnings = []
config = load_config(sys.argv[1], warn=warnings.append)
print(config.service_app.app_id, "jsonschema" in sys.modules, warnings)
"""


def _load_in_a_fresh_process(config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_second_load_of_the_same_config_skips_jsonschema(
    tokens_config: Callable[..., Path],
) -> None:
    data = profile_dict()
    data["serviceApp"]["colour"] = "blue"  # an unknown key: a warning, not an error
    config = tokens_config(data)
    warning = f"['{config}: unknown key $.serviceApp.colour (ignored)']"
    first = _load_in_a_fresh_process(config)
    second = _load_in_a_fresh_process(config)
    assert first.split(" ", 2)[1:] == ["True", warning]
    assert second.split(" ", 2)[1:] == ["False", warning]


def test_an_edited_config_is_validated_again(tokens_config: Callable[..., Path]) -> None:
    config = tokens_config()
    load_config(config)
    data = json.loads(config.read_text())
    data["serviceApp"]["clientSecret"] = ""
    config.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"\$\.serviceApp\.clientSecret: must not be empty"):
        load_config(config)


def test_a_config_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "latin1.json"
    config.write_bytes('{"serviceApp": {"appId": "caf\xe9"}}'.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value) == (
        f"config {config} is not UTF-8 text (byte 29); re-save it as UTF-8 JSON, or move it aside"
    )
