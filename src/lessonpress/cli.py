"""The `lessonpress` command line: parse options, call the library, print a summary."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

# Commands load their module only when run, so `lessonpress --help` starts fast.
COMMANDS: dict[str, str] = {
    "build": "lessonpress.commands.build:build_command",
    "polls": "lessonpress.commands.polls:polls_group",
    "replies": "lessonpress.commands.replies:replies_command",
    "email": "lessonpress.commands.email:email_command",
    "serve": "lessonpress.commands.serve:serve_command",
    "init": "lessonpress.commands.init:init_command",
    "new": "lessonpress.commands.new:new_command",
    "check": "lessonpress.commands.check:check_command",
    "send": "lessonpress.commands.send:send_command",
    "sends": "lessonpress.commands.sends:sends_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lessonpress")
@click.option(
    "--site", "-C", "site_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="The site folder (holds lessonpress.toml and lessons/).",
)
@click.pass_context
def main(ctx: click.Context, site_dir: Path) -> None:
    """Build lesson newsletters: a website, feeds and ready-to-send email from Markdown."""
    ctx.obj = site_dir.resolve()
