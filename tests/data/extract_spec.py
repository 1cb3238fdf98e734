"""Regenerate tests/data/spec_properties.json from the official OpenAPI documents.

PyYAML is not a project dependency, so this runs once, by hand, with any Python that has
it (``python3 -m pip install pyyaml`` outside the project venv if needed)::

    python3 tests/data/extract_spec.py ../shared/specs > tests/data/spec_properties.json

It keeps, per operation, the request-body properties (name -> OpenAPI type), the
required request properties and the 200 response properties: what the sandbox contract
tests check against.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

SPEC_FILES = ("webex-data-sources-openapi.yml", "webex-service-apps-openapi.yml")


def _properties(schema: dict[str, Any] | None) -> dict[str, str]:
    props = (schema or {}).get("properties") or {}
    return {name: str(spec.get("type", "any")) for name, spec in sorted(props.items())}


def extract(spec_dir: Path) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for name in SPEC_FILES:
        document = yaml.safe_load((spec_dir / name).read_text(encoding="utf-8"))
        for path, methods in document["paths"].items():
            for method, op in methods.items():
                request = ((op.get("requestBody") or {}).get("content") or {}).get(
                    "application/json", {}
                )
                ok = (op.get("responses") or {}).get("200") or {}
                response = (ok.get("content") or {}).get("application/json", {})
                operations[f"{method.upper()} {path}"] = {
                    "requestProperties": _properties(request.get("schema")),
                    "requestRequired": sorted((request.get("schema") or {}).get("required", [])),
                    "responseProperties": _properties(response.get("schema")),
                }
    return {"source": list(SPEC_FILES), "operations": dict(sorted(operations.items()))}


if __name__ == "__main__":
    print(json.dumps(extract(Path(sys.argv[1])), indent=2))
