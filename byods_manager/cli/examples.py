"""One example at the end of every command's ``--help``, kept in one table so that a new
command needs one line here. A command whose help already shows an example keeps its own."""

from __future__ import annotations

import click

DS = "f29bb291-5db0-411b-834a-e64f8dee0658"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "byods list --columns id,status,expires",
        "byods token status -v",
        'eval "$(byods completion bash)"   # tab completion',
    ),
    "list": ("byods list", "byods list --wide", "byods list --json | jq -r '.[].id'"),
    "show": (f"byods show {DS}", f"byods show {DS} --json | jq .jws.claims.exp"),
    "update": (f"byods update {DS} --url https://dap.example.com/v2/ingest",),
    "extend": (f"byods extend {DS}", "byods extend --all --if-expiring-within 6h"),
    "disable": (f'byods disable {DS} --reason "maintenance window"',),
    "enable": (f"byods enable {DS}",),
    "delete": (f"byods delete {DS} --yes",),
    "schemas": ("byods schemas list",),
    "schemas list": ("byods schemas list", "byods schemas list --columns id,name"),
    "schemas show": ("byods schemas show 78efc775-dccb-45ca-9acf-989a4a59f788",),
    "token": ("byods token status",),
    "token status": ("byods token status", "byods token status --check --json"),
    "token refresh": (
        "byods token refresh",
        "byods token refresh --force --json",
        "byods token refresh --all-orgs --concurrency 4",
    ),
    "auth": ("byods auth setup",),
    "auth setup": (
        "byods auth setup",
        "byods auth setup --client-id C0123 --client-secret - < secret.txt",
    ),
    "sandbox": ("byods sandbox --port 8765 --config-out ./sandbox-config.json",),
    "completion": ('eval "$(byods completion bash)"   # add to ~/.bashrc',),
    "jws": ("byods jws verify - --url wss://dap.example.com/ingest < token.txt",),
    "jws verify": (
        "byods jws verify - --audience MedDocVirtualAgent --subject callAudioData < token.txt",
        f"byods jws verify --data-source {DS}",
    ),
    "orgs": ("byods orgs list",),
    "orgs list": ("byods orgs list", "byods orgs list --json | jq -r '.[].orgId'"),
    "orgs add": ("byods orgs add Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9hYmM --name acme",),
    "orgs rename": ("byods orgs rename acme acme-prod",),
    "orgs remove": ("byods orgs remove acme --yes",),
    "keepalive": (
        "byods keepalive --once",
        "byods keepalive --alert-webhook https://hooks.example.com/T000/B000/XXXX",
        "byods keepalive --all-orgs --template datasources.yaml  # BYODS_WEBHOOK_SECRET set",
    ),
    "apply": (
        "byods apply -f datasources.yaml --dry-run",
        "byods apply -f datasources.yaml --all-orgs",
    ),
    "webhooks": ("byods webhooks list",),
    "webhooks register": (
        "byods webhooks register --target-url https://dap.example.com/webhooks/service-app",
        "byods webhooks register --target-url URL --secret - < secret.txt",
    ),
    "webhooks list": ("byods webhooks list", "byods webhooks list --json | jq -r '.[].id'"),
    "webhooks delete": ("byods webhooks delete Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjRl",),
    "store": ("byods store status",),
    "store status": ("byods --store postgresql://byods@db.example.com/byods store status --json",),
    "store migrate": ("byods --store postgresql://byods@db.example.com/byods store migrate",),
}


def _epilog(lines: tuple[str, ...]) -> str:
    heading = "Example:" if len(lines) == 1 else "Examples:"
    return "\b\n" + heading + "\n" + "\n".join(f"  {line}" for line in lines)


def add_examples(command: click.Command, path: str = "") -> None:
    """Attach the examples to ``command`` and, for a group, to every command below it."""
    lines = EXAMPLES.get(path)
    has_own = "Example" in (command.help or "") or "Example" in (command.epilog or "")
    if lines and not has_own:
        epilog = _epilog(lines)
        command.epilog = f"{command.epilog}\n\n{epilog}" if command.epilog else epilog
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            add_examples(sub, f"{path} {name}".strip())
