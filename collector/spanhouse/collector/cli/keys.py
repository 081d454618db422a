"""`spanhouse keys`: make API keys and the digests a key file holds instead of the keys."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated, Optional

import typer

from spanhouse.collector.auth import ALL_TENANTS, MIN_KEY_LENGTH, TENANT_PATTERN, hash_key
from spanhouse.collector.cli.options import fail

keys_app = typer.Typer(help="API keys: digests for the key file, new keys.", no_args_is_help=True)


@keys_app.command("hash")
def hash_command(
    key: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
        typer.Argument(help="The key; omit it to read it from stdin (keeps it out of shell history)."),
    ] = None,
) -> None:
    """Print the sha256:<hex> digest of a key, to put in the key file in place of the key."""
    if key is None:
        key = typer.prompt("API key", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH:
        fail(f"the key is {len(key)} characters long; API keys need at least {MIN_KEY_LENGTH}")
    print(hash_key(key))


@keys_app.command("new")
def new_command(
    tenant: Annotated[str, typer.Option(help="Tenant the key is for ('*' for the operator key).")],
) -> None:
    """Print a new random key (give it to the tenant) and the key-file line that accepts it."""
    if tenant != ALL_TENANTS and not TENANT_PATTERN.match(tenant):
        fail(f"--tenant {tenant!r} must be 1-64 letters, digits, '_', '.', '-' (or '*' for the operator)")
    key = secrets.token_urlsafe(32)
    print(f"key: {key}")
    shown = "'*'" if tenant == ALL_TENANTS else tenant
    print(f"key file line (under api_keys:): {hash_key(key)}: {shown}")
