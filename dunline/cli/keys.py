"""`dunline keys`: the master keys that seal recordings, transcripts and the case store's column key
(crypto.keys, cases.columns)."""

from __future__ import annotations

from pathlib import Path

import typer

from dunline.cli.context import CliContext, console, fail

keys_app = typer.Typer(help="Master keys sealing recordings, transcripts and personal columns.", no_args_is_help=True)


def _recordings(cli: CliContext) -> Path:
    return cli.settings.data_dir / "recordings"


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """The master key ids (the current one marked), how many sealed files each wraps, and which wraps the
    column key."""
    from cases.columns import wrapping_key_id
    from crypto import CryptoError
    from dunline.installation import master_keys
    from recordings.storage import keys_in_use

    cli: CliContext = ctx.obj
    keys = master_keys(cli.settings.data_dir)
    try:
        keyring = keys.keyring()
    except (CryptoError, ValueError) as error:
        raise fail(str(error)) from None
    used = keys_in_use(_recordings(cli))
    with cli.migrated_store().engine.connect() as connection:
        columns = wrapping_key_id(connection)
    console.print(f"keys from {'DUNLINE_MASTER_KEY' if keys.from_environment else keys.path}")
    listed = [*keyring.ids, *(key_id for key_id in used if key_id not in keyring.keys)]
    for key_id in [*listed, *([columns] if columns and columns not in listed else [])]:
        state = ("current" if key_id == keyring.current.id else "kept" if key_id in keyring.keys
                 else "[red]MISSING[/red]")
        console.print(f"  {key_id}  {state:8}  {used.get(key_id, 0)} file(s){'  column key' if key_id == columns else ''}")


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context) -> None:
    """A new current key (in the key file; with DUNLINE_MASTER_KEY, its first key is the new one), then the
    column key and every sealed file re-wrapped to it while the server runs. The old key may be dropped once
    nothing needs it."""
    from cases.audit import record
    from crypto import CryptoError
    from dunline.installation import master_keys
    from recordings.storage import rewrap_all

    cli: CliContext = ctx.obj
    actor = cli.act("keys")
    keys = master_keys(cli.settings.data_dir)
    try:
        added = None if keys.from_environment else keys.add()
        keyring = keys.keyring()
    except (CryptoError, ValueError) as error:
        raise fail(str(error)) from None
    store = cli.migrated_store()
    try:
        with store.engine.begin() as connection:
            columns_from = store.columns.rewrap(connection)
    except CryptoError as error:
        raise fail(f"the column key was not re-wrapped: {error}") from None
    rotation = rewrap_all(_recordings(cli), keyring)
    with store.session() as session:
        record(session, actor=actor, action="keys.rotated", entity="master_key",
               entity_id=keyring.current.id, details={"added": added is not None, "rewrapped": rotation.rewrapped,
                                                      "failed": len(rotation.failed),
                                                      "column_key_from": columns_from})
    console.print(f"current key {keyring.current.id}{' (new)' if added else ''}: column key "
                  f"{'re-wrapped' if columns_from else 'already on it'}, {rotation.rewrapped} file(s) "
                  f"re-wrapped, {rotation.current} already on it")
    for path, why in rotation.failed.items():
        console.print(f"[red]{path}[/red]: {why}")
    if rotation.failed:
        raise fail(f"{len(rotation.failed)} file(s) not re-wrapped; keep their keys")


@keys_app.command("drop")
def keys_drop(ctx: typer.Context, key_id: str) -> None:
    """Remove a key from the key file; refused while it is current, wraps the column key, or any sealed file
    still needs it."""
    from cases.audit import record
    from cases.columns import wrapping_key_id
    from crypto import CryptoError
    from dunline.installation import master_keys
    from recordings.storage import keys_in_use

    cli: CliContext = ctx.obj
    actor = cli.act("keys")
    if (still := keys_in_use(_recordings(cli)).get(key_id, 0)):
        raise fail(f"{still} sealed file(s) still need key {key_id!r}: run `dunline keys rotate` first")
    with cli.migrated_store().engine.connect() as connection:
        if wrapping_key_id(connection) == key_id:
            raise fail(f"key {key_id!r} wraps the column key: run `dunline keys rotate` first")
    try:
        master_keys(cli.settings.data_dir).drop(key_id)
    except (CryptoError, ValueError) as error:
        raise fail(str(error)) from None
    with cli.migrated_store().session() as session:
        record(session, actor=actor, action="keys.dropped", entity="master_key", entity_id=key_id)
    console.print(f"key {key_id} dropped")
