"""`lessonpress list`: the subscriber list lessonpress keeps in `.lessonpress/list.sqlite`."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from ..content.config import CONFIG_NAME, load_config
from ..errors import SourceError, plural
from ..send.forget import forget_reader
from ..send.ledger import LEDGER_PATH
from ..send.roster import LIST_PATH, STATUSES, ListRefused, Roster
from ..send.roster_csv import FORMATS, read_import, write_export
from ..sitefiles import read_file, read_problem
from ..untrusted import terminal_text
from .common import print_warnings


def _took(started: float) -> str:
    return f"in {time.perf_counter() - started:.2f} s"


def _not_on_list(address: str) -> ListRefused:
    return ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"{terminal_text(address)} is not on the list")], "nothing was changed")


@click.group("list", invoke_without_command=True)
@click.pass_context
def list_group(ctx: click.Context) -> None:
    """The subscriber list in .lessonpress/list.sqlite.

    Without a subcommand: how many readers have each status.
    """
    if ctx.invoked_subcommand is not None:
        return
    started = time.perf_counter()
    root: Path = ctx.obj
    roster = Roster.open(root, read_only=True)
    try:
        counts = roster.counts()
    finally:
        roster.close()
    for status in STATUSES:
        click.echo(f"{status:<13}{counts[status]:>7}")
    total = sum(counts.values())
    where = LIST_PATH.as_posix() if (root / LIST_PATH).exists() else f"{LIST_PATH.as_posix()} (not made yet: 'lessonpress list add' or 'list import' makes it)"
    click.echo(f"{plural(total, 'reader')} on the list, {counts['active']} active, in {where} {_took(started)}")


@list_group.command("add", short_help="Add a reader, active (or pending with --confirm).")
@click.argument("address")
@click.option("--name", default="", help="The reader's name, for the greeting.")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for more.")
@click.option("--confirm", is_flag=True, help="Leave the reader pending until they confirm by mail, instead of vouching for their consent.")
@click.pass_obj
def add_command(root: Path, address: str, name: str, tags: tuple[str, ...], confirm: bool) -> None:
    """Add ADDRESS as an active reader: you vouch that they asked for your letters.

    Also brings back a reader who unsubscribed, bounced, complained or was forgotten: only this command does.
    """
    started = time.perf_counter()
    if any("," in tag for tag in tags):
        raise ListRefused([SourceError("--tag", 0, "a tag may not hold a comma: pass one --tag per tag")])
    roster = Roster.open(root)
    try:
        source = "lessonpress list add" + (" --confirm" if confirm else "")
        reader, previous = roster.add(address, name=name, tags=tags, status="pending" if confirm else "active", how="command", source=source)
    finally:
        roster.close()
    shown = terminal_text(reader.address)
    if previous == reader.status:
        what = f"{shown} is already {reader.status}"
    elif previous:
        what = f"{shown} was {previous}, is {reader.status} now"
    else:
        what = f"Added {shown} as {reader.status}"
    if reader.status == "pending":
        what += "; the next 'lessonpress inbox' pass sends the confirmation"
    click.echo(f"{what} {_took(started)}")


@list_group.command("remove", short_help="Unsubscribe a reader; the history stays.")
@click.argument("address")
@click.pass_obj
def remove_command(root: Path, address: str) -> None:
    """Unsubscribe ADDRESS: they are never sent mail again; their row and history stay."""
    started = time.perf_counter()
    roster = Roster.open(root)
    try:
        before = roster.find(address)
        reader = roster.remove(address, how="command", source="lessonpress list remove") if before else None
    finally:
        roster.close()
    if before is None or reader is None:
        raise _not_on_list(address)
    if before.status == "unsubscribed":
        click.echo(f"{terminal_text(reader.address)} was already unsubscribed {_took(started)}")
    else:
        click.echo(f"Unsubscribed {terminal_text(reader.address)} (was {before.status}) {_took(started)}")


@list_group.command("show", short_help="Show a reader's status and history.")
@click.argument("address")
@click.pass_obj
def show_command(root: Path, address: str) -> None:
    """Show ADDRESS: name, status, tags and every status change with its source."""
    started = time.perf_counter()
    roster = Roster.open(root, read_only=True)
    try:
        record = roster.show(address)
        forgotten = record is None and roster.is_forgotten(address)
    finally:
        roster.close()
    if record is None:
        if forgotten:
            raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"{terminal_text(address)} was forgotten: nothing about it is kept but a digest")], "nothing was changed")
        raise _not_on_list(address)
    reader = record.reader
    click.echo(f"{terminal_text(reader.address)}  {reader.status}")
    click.echo(f"  name:    {terminal_text(reader.name) or '(none)'}")
    click.echo(f"  tags:    {terminal_text(', '.join(reader.tags)) or '(none)'}")
    click.echo(f"  since:   {reader.created}")
    click.echo("  history:")
    for change in record.history:
        click.echo(f"    {change.at}  {change.status:<12}  {change.how:<7}  {terminal_text(change.source) or '-'}")
    click.echo(f"Showed {terminal_text(reader.address)}: {reader.status}, {plural(len(record.history), 'change')} {_took(started)}")


@list_group.command("export", short_help="Write the list as CSV, as send --list reads it.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file (default: standard output).")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option("--active", "active_only", is_flag=True, help="Only active readers: a list to send to.")
@click.pass_obj
def export_command(root: Path, output: Path | None, force: bool, active_only: bool) -> None:
    """Write the list as CSV (email,name,subscribed_at,status,tags), the format 'send --list' reads."""
    started = time.perf_counter()
    roster = Roster.open(root, read_only=True)
    try:
        readers = roster.readers(["active"] if active_only else STATUSES)
    finally:
        roster.close()
    if output is None:
        count = write_export(readers, sys.stdout)
        click.echo(f"Exported {plural(count, 'reader')} {_took(started)}", err=True)
        return
    target = output if output.is_absolute() else Path.cwd() / output
    if os.path.lexists(target) and not force:
        raise ListRefused([SourceError(str(output), 0, "already exists: pass --force to overwrite it")], "nothing was written")
    try:
        # Written beside and moved into place: a reader never sees half a file. mkstemp makes it private (0600): it is personal data.
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise ListRefused([SourceError(str(output), 0, f"cannot be written ({error.strerror})")], "nothing was written") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            count = write_export(readers, stream)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    click.echo(f"Exported {plural(count, 'reader')} to {output} {_took(started)}")


def _site_zone(root: Path) -> ZoneInfo:
    """The site's time zone for dates without an offset; UTC outside a site folder."""
    if not (root / CONFIG_NAME).exists():
        return ZoneInfo("UTC")
    config, warnings = load_config(root)
    print_warnings(warnings)
    return config.tz


@list_group.command("import", short_help="Import a CSV from lessonpress or a mail service.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "format_name", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True, help="Who wrote the file; auto tells by its columns.")
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad (each bad one is still reported).")
@click.pass_obj
def import_command(root: Path, file: Path, format_name: str, skip_bad: bool) -> None:
    """Add the readers of FILE: a lessonpress, Mailchimp, Substack, Buttondown or listmonk export.

    An import never brings back a reader who unsubscribed, bounced, complained or was forgotten; 'list add' does.
    """
    started = time.perf_counter()
    shown = str(file)
    try:
        data = read_file(file)  # a FIFO or /dev/zero would wait or read forever
    except FileNotFoundError:
        raise ListRefused([SourceError(shown, 0, "file not found: check the path")]) from None
    except OSError as error:
        raise ListRefused([SourceError(shown, 0, read_problem(error, ""))]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ListRefused([SourceError(shown, line, "is not valid UTF-8: export the list as UTF-8 CSV")]) from None
    found = read_import(text, shown, format_name, _site_zone(root))
    if found.errors and (not skip_bad or not found.rows):
        count = len(found.errors)
        hint = "fix them, or pass --skip-bad to import the other rows" if found.rows else "fix it and import again"
        raise ListRefused(found.errors, f"import stopped: {plural(count, 'bad row')}; the list was not changed ({hint})")
    for bad in found.errors:
        click.echo(f"{bad.path}:{bad.line}: skipped: {bad.message}", err=True)
    roster = Roster.open(root)
    try:
        merged = roster.merge(found.rows)
    finally:
        roster.close()
    for note in merged.notes:
        click.echo(f"{note.path}:{note.line}: note: {note.message}", err=True)
    parts = [f"{merged.added} added", f"{merged.changed} changed", f"{merged.unchanged} unchanged"]
    if merged.notes:
        parts.append(f"{len(merged.notes)} kept as they were")
    if found.errors:
        parts.append(f"{plural(len(found.errors), 'bad row')} skipped")
    click.echo(f"Imported {shown} ({found.format}): {', '.join(parts)} {_took(started)}")


@list_group.command("forget", short_help="Erase a reader's personal data, keeping a digest.")
@click.argument("address")
@click.pass_obj
def forget_command(root: Path, address: str) -> None:
    """Erase ADDRESS's personal data from the list (address, name, history) and the send ledger, keeping only a keyed digest.

    The digest stops an old bounce or an import from adding them again; 'list add' still can.
    """
    started = time.perf_counter()
    erased = forget_reader(root, address)
    forgotten = erased.listed
    shown = terminal_text(address)
    if not forgotten.settled:
        click.echo("note: another process has the list open: the erased bytes leave .lessonpress/list.sqlite-wal when it closes the list", err=True)
    what = f"Forgot {shown}: address, name and history erased" if forgotten.known else f"{shown} was not on the list; its digest is kept"
    if erased.ledger_rows:
        what += f", and replaced by that digest in {plural(erased.ledger_rows, 'row')} of {LEDGER_PATH.as_posix()}"
    click.echo(f"{what}; only 'lessonpress list add' can bring it back {_took(started)}")
