"""How the wizard talks to a person: messages on stderr, prompts only with a terminal.

Without a terminal every question the wizard would ask becomes an :class:`InputError`
naming the option that answers it, so automation fails fast instead of hanging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import click

from ..errors import InputError


class Prompter(Protocol):
    @property
    def interactive(self) -> bool:
        """True when questions can be asked (a person is at a terminal)."""
        ...

    def say(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def ask(self, question: str, *, secret: bool = False, hint: str = "") -> str:
        """A non-empty answer; ``hint`` names the option to use when nobody can answer."""
        ...

    def confirm(self, question: str, *, default: bool = True) -> bool: ...

    def choose(self, question: str, options: Sequence[tuple[str, str]], *, default: str) -> str:
        """One of the option keys; ``options`` are (key, description) pairs."""
        ...


class ClickPrompter:
    """The terminal implementation. Everything goes to stderr so ``--json`` stays clean."""

    def __init__(self, interactive: bool) -> None:
        self._interactive = interactive

    @property
    def interactive(self) -> bool:
        return self._interactive

    def say(self, message: str) -> None:
        click.echo(message, err=True)

    def warn(self, message: str) -> None:
        click.echo(f"Warning: {message}", err=True)

    def _require_terminal(self, question: str, hint: str) -> None:
        if not self._interactive:
            text = f"no terminal to ask: {question.rstrip(':? ')}"
            raise InputError(f"{text} ({hint})" if hint else text)

    def ask(self, question: str, *, secret: bool = False, hint: str = "") -> str:
        self._require_terminal(question, hint)
        while True:
            answer = str(
                click.prompt(question, hide_input=secret, err=True, default="", show_default=False)
            ).strip()
            if answer:
                return answer
            click.echo("A value is required.", err=True)

    def confirm(self, question: str, *, default: bool = True) -> bool:
        self._require_terminal(question, "")
        return bool(click.confirm(question, default=default, err=True))

    def choose(self, question: str, options: Sequence[tuple[str, str]], *, default: str) -> str:
        self._require_terminal(question, "")
        click.echo(question, err=True)
        for key, description in options:
            click.echo(f"  {key}) {description}", err=True)
        keys = [key for key, _ in options]
        return str(click.prompt("Choose", type=click.Choice(keys), default=default, err=True))
