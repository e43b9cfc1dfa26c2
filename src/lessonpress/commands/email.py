"""`lessonpress email LESSON`: write or print one lesson as email."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from ..build import prepare
from ..errors import SiteFailed, Stopped
from ..incremental.write import file_error
from ..render.emails import Mailer, Recipient
from ..site.lookup import named_issue, naming_hint
from ..site.model import BuildOptions
from ..sitefiles import write_file
from .common import print_warnings


@click.command("email")
@click.argument("lesson")
@click.option("--to", "to", default="", help="Address the .eml to this recipient.")
@click.option("--name", default="", help="Greet the recipient by this name.")
@click.option("--format", "kind", type=click.Choice(["eml", "html", "txt"]), default="eml", show_default=True, help="Which form of the email to produce.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@click.option("--drafts", is_flag=True, help="Allow lessons marked draft: true.")
@click.option("--future", is_flag=True, help="Allow lessons dated in the future.")
@click.pass_obj
def email_command(root: Path, lesson: str, to: str, name: str, kind: str, output: Path | None, force: bool, drafts: bool, future: bool) -> None:
    """Write or print LESSON (a lesson file or series/slug) as email."""
    started = time.perf_counter()
    problem = file_error(output, root, overwrite=force) if output else None
    if problem:
        raise Stopped([problem], "email not written: nothing was changed")
    options = BuildOptions(now=datetime.now(UTC), include_drafts=drafts, include_future=future)
    site, _, warnings = prepare(root, options)
    print_warnings(warnings)
    issue = named_issue(
        site, root, lesson, options.now, unknown=f"no lesson by that name: {naming_hint(site)}",
        draft="add --drafts to write its email anyway", future="add --future to write its email anyway", stop=SiteFailed,
    )
    mailer = Mailer(site)
    recipient = Recipient(email=to, name=name)
    if kind == "eml":
        data = mailer.message_bytes(issue, recipient)
    else:
        rendered = mailer.render(issue, recipient)
        data = (rendered.html if kind == "html" else rendered.text).encode("utf-8")
    if output:
        write_file(output, data)
    else:
        click.echo(data, nl=False)
    where = f" to {output}" if output else ""
    # The summary goes to stderr so a printed message can be piped on untouched.
    click.echo(f"Wrote {issue.lesson.series}/{issue.lesson.slug} as .{kind}{where} ({len(data) / 1024:.1f} KB) in {time.perf_counter() - started:.2f} s", err=True)
