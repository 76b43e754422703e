"""Typer wiring for `greenloop keys set|list|remove` (the store itself is keys.py)."""

from __future__ import annotations

import getpass
import os
import sys

import typer
from rich.console import Console

from greenloop.daily_cli import fail
from greenloop.errors import UsageError
from greenloop.keys import MAX_KEY_CHARS, PROVIDERS, KeyStore, api_key, masked, provider_of
from greenloop.sanitize import for_terminal

err = Console(stderr=True, highlight=False)
KEYS_HELP = ("API keys for openai: and anthropic: models, kept in keys.toml (mode 0600) in your config directory. "
             "An exported OPENAI_API_KEY / ANTHROPIC_API_KEY wins over a stored key; a repository can never set one.")


def _read_key(provider: str) -> str:
    """From a hidden prompt on a terminal, else from stdin (bounded): never from argv, where `ps` shows it."""
    if not sys.stdin.isatty():
        return sys.stdin.read(MAX_KEY_CHARS + 1)
    try:
        return getpass.getpass(f"{provider} API key (input hidden): ")
    except EOFError:
        return ""  # Ctrl-D at the prompt: an empty key, refused with its own message
    except KeyboardInterrupt:
        err.print("\ngreenloop: interrupted; nothing written", markup=False)
        raise typer.Exit(130) from None


def _env_note(provider: str, note: str) -> str:
    """`; OPENAI_API_KEY ... <note>` when the provider's variable is exported (it wins over the store)."""
    variable = PROVIDERS[provider]
    return f"; {variable} is set in this environment and {note}" if os.environ.get(variable) else ""


def _providers() -> list[str]:
    return list(PROVIDERS)


def register_keys(app: typer.Typer) -> None:
    keys_app = typer.Typer(no_args_is_help=True, help=KEYS_HELP)
    app.add_typer(keys_app, name="keys")

    @keys_app.command("set", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def set_key(ctx: typer.Context, provider: str = typer.Argument(..., help="openai or anthropic.",
                                                                   autocompletion=_providers)) -> None:
        """Store PROVIDER's API key, typed at a hidden prompt or piped on stdin.

        Piped: printf %s "$KEY" | greenloop keys set openai
        Never as an argument: `ps` and your shell history would show it.
        An exported OPENAI_API_KEY / ANTHROPIC_API_KEY still wins over the stored key."""
        store = KeyStore.of(os.environ)
        try:
            provider_of(provider)
            if ctx.args:  # refused, not echoed: it is most likely the key
                raise UsageError(f"a key given as an argument shows in `ps` and your shell history; run "
                                 f"`greenloop keys set {provider}` and paste it at the hidden prompt, or pipe it in")
            key = _read_key(provider)
            store.set(provider, key)
        except UsageError as exc:
            fail(f"{exc}; nothing written")
        print(f"stored the {provider} key {masked(key.strip())} in {store.path} (mode 0600)"
              f"{_env_note(provider, 'wins over it')}")

    @keys_app.command("list")
    def list_keys() -> None:
        """Each provider, its key masked, and where it comes from (the environment or the keys file)."""
        store = KeyStore.of(os.environ)
        try:
            stored = store.read()
            loose = store.loose_permissions()
        except UsageError as exc:
            fail(str(exc))
        for provider, variable in PROVIDERS.items():
            used = api_key(provider)
            if used is None:
                print(f"{provider:<10} {'-':<9} not set: export {variable} or run `greenloop keys set {provider}`")
                continue
            where = used.source
            if provider in stored and where.startswith("env "):
                where += f" (wins over the stored key {masked(stored[provider])} in {store.path})"
            print(for_terminal(f"{provider:<10} {masked(used.value):<9} {where}"))
        if loose is not None:
            err.print(f"warning: {store.path} may be read by other users (mode {loose:04o}); "
                      f"run `chmod 600 {store.path}`", markup=False, soft_wrap=True)

    @keys_app.command("remove")
    def remove_key(provider: str = typer.Argument(..., help="openai or anthropic.",
                                                  autocompletion=_providers)) -> None:
        """Delete PROVIDER's stored key (an exported variable is not touched)."""
        store = KeyStore.of(os.environ)
        try:
            removed = store.remove(provider)
        except UsageError as exc:
            fail(f"{exc}; nothing written")
        print(f"removed the stored {provider} key from {store.path}{_env_note(provider, 'is still used')}"
              if removed else f"no {provider} key is stored in {store.path}; nothing to remove")
