"""The `lessonpress` command line: parse options, call the library, print a summary."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

# Commands load their module only when run, and `--help` lists them from the summaries here,
# so `lessonpress --help` imports none of the library.
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("lessonpress.commands.build:build_command", "Build the site, feeds and emails into output/."),
    "check": ("lessonpress.commands.check:check_command", "Check every lesson before sending; --format json for editors."),
    "email": ("lessonpress.commands.email:email_command", "Write or print one lesson as email (.eml, .html or .txt)."),
    "import": ("lessonpress.commands.import_archive:import_command", "Import past issues from a feed, an export, a mailbox or a folder."),
    "inbox": ("lessonpress.commands.inbox:inbox_command", "Handle new mail: list requests, bounces, votes, replies."),
    "endpoint": ("lessonpress.commands.endpoint:endpoint_command", "Serve one-click unsubscribe and the subscribe form (a small web app)."),
    "init": ("lessonpress.commands.init:init_command", "Create a new site, ready to serve."),
    "list": ("lessonpress.commands.list:list_group", "The subscriber list lessonpress keeps: add, import, forget…"),
    "new": ("lessonpress.commands.new:new_command", "Create the next lesson of a series as a draft; print its path."),
    "polls": ("lessonpress.commands.polls:polls_group", "Read readers' poll votes back from a mailbox."),
    "replies": ("lessonpress.commands.replies:replies_command", "List readers' replies per lesson from a mailbox."),
    "send": ("lessonpress.commands.send:send_command", "Send a lesson, or the due lessons of a course, over SMTP."),
    "sends": ("lessonpress.commands.sends:sends_command", "Show the send ledger per lesson."),
    "serve": ("lessonpress.commands.serve:serve_command", "Preview the site; rebuild and reload open pages on every save."),
    "topics": ("lessonpress.commands.topics:topics_group", "The readers' topic backlog in data/topics.yml."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


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
