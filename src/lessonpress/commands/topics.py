"""`lessonpress topics`: the readers' topic backlog, its votes, new topics and promoted write-ins."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import click

from ..content.config import SiteConfig
from ..content.lesson import SLUG_PATTERN
from ..errors import SourceError, Stopped, plural
from ..site.backlog import BACKLOG_FILE, append_topic, new_topic_id
from ..site.load import load_site
from ..site.model import BuildOptions, PollResults, Topic, TopicStatus
from ..site.polls import results_path
from ..site.topic_plan import TopicPlan
from ..untrusted import terminal_text
from .common import print_warnings


def _load(root: Path) -> tuple[SiteConfig, TopicPlan, Mapping[str, PollResults]]:
    """Load the site as `build` does; stop with every error found."""
    loaded = load_site(root, BuildOptions(now=datetime.now(UTC), include_drafts=True, include_future=True))
    print_warnings(loaded.warnings)
    loaded.or_fail()
    return loaded.site.config, loaded.plan, loaded.results


class Refused(Stopped):
    """A topics command that changed nothing."""

    def __init__(self, error: SourceError) -> None:
        super().__init__([error], "nothing was changed")



def _status_lines(status: TopicStatus) -> list[str]:
    lines = [f"  {status.id}: {terminal_text(status.title)}", f"    {plural(status.votes, 'vote')} in {plural(status.offered, 'poll')}"]
    if status.covered_by:
        answer = status.covered_by[0]
        lines[-1] += f"; covered by {answer.series}/{answer.slug} ({answer.date.date().isoformat()})"
    lines.extend(f"      {entry.lesson.date.date().isoformat()}  {entry.poll} #{entry.choice}: {plural(entry.votes, 'vote')}" for entry in status.history)
    return lines


def _list_topics(root: Path) -> None:
    started = time.perf_counter()
    _, plan, _ = _load(root)
    open_topics = sorted((status for status in plan.statuses if not status.covered_by), key=lambda status: (-status.votes, status.topic.added, status.id))
    covered = [status for status in plan.statuses if status.covered_by]
    if open_topics:
        click.echo("Open topics:")
        click.echo("\n".join(line for status in open_topics for line in _status_lines(status)))
    if covered:
        click.echo("Covered topics:")
        click.echo("\n".join(line for status in covered for line in _status_lines(status)))
    votes = sum(status.votes for status in plan.statuses)
    click.echo(
        f"Listed {plural(len(plan.statuses), 'topic')} ({len(open_topics)} open, {len(covered)} covered) "
        f"with {plural(votes, 'vote')} in {time.perf_counter() - started:.2f} s"
    )


@click.group("topics", invoke_without_command=True)
@click.pass_context
def topics_group(ctx: click.Context) -> None:
    """The readers' topic backlog in data/topics.yml.

    Without a subcommand, or with `list`: the open topics, most votes first, then the covered ones;
    under each topic, the votes each automatic poll gave it, newest poll first.
    """
    if ctx.invoked_subcommand is None:
        _list_topics(ctx.obj)


@topics_group.command("list")
@click.pass_obj
def list_command(root: Path) -> None:
    """List the open topics, most votes first, then the covered ones (the same as 'lessonpress topics')."""
    _list_topics(root)


def _add(config: SiteConfig, plan: TopicPlan, title: str, topic_id: str, description: str, write_in: str = "") -> Topic:
    """Check a new topic's id and title, then append it to the backlog."""
    title, description = " ".join(title.split()), " ".join(description.split())
    taken = {status.id for status in plan.statuses}
    topic_id = topic_id or new_topic_id(title, taken)
    if not title:
        raise Refused(SourceError(BACKLOG_FILE, 0, "a topic needs a title: lessonpress topics add \"Title readers will see\""))
    if not SLUG_PATTERN.match(topic_id):
        raise Refused(SourceError(BACKLOG_FILE, 0, f"topic id '{terminal_text(topic_id)}' may use only lowercase letters, digits and hyphens: pass another with --id"))
    if topic_id in taken:
        line = next(status.topic.line for status in plan.statuses if status.id == topic_id)
        raise Refused(SourceError(BACKLOG_FILE, line, f"topic id '{topic_id}' is already taken: pass another with --id"))
    topic = Topic(id=topic_id, title=title, added=datetime.now(config.tz).date(), line=0, description=description, write_in=write_in)
    return append_topic(config, topic)


@topics_group.command("add")
@click.argument("title")
@click.option("--id", "topic_id", default="", help="The topic's id (default: made from the title).")
@click.option("--description", default="", help="One line on what a lesson on it would answer.")
@click.pass_obj
def add_command(root: Path, title: str, topic_id: str, description: str) -> None:
    """Append a topic to data/topics.yml; polls of lessons dated after today may offer it."""
    started = time.perf_counter()
    config, plan, _ = _load(root)
    topic = _add(config, plan, title, topic_id, description)
    click.echo(f"Added topic '{topic.id}' to {BACKLOG_FILE}:{topic.line} in {time.perf_counter() - started:.2f} s")


def _write_ins(plan: TopicPlan, poll_results: Mapping[str, PollResults]) -> list[tuple[str, str, str]]:
    """Every write-in as (reference, text, poll date), newest poll first; a reference is `<poll-id>:<n>`."""
    dates = {lesson.poll.id: lesson.date.date().isoformat() for lesson in plan.lessons if lesson.poll is not None}
    polls = sorted(poll_results.values(), key=lambda result: (dates.get(result.poll, ""), result.poll), reverse=True)
    return [
        (f"{result.poll}:{number}", text, dates.get(result.poll, ""))
        for result in polls
        for number, text in enumerate(result.write_ins, start=1)
    ]


@topics_group.command("write-ins")
@click.pass_obj
def write_ins_command(root: Path) -> None:
    """List readers' own suggestions from every tallied poll, newest poll first."""
    started = time.perf_counter()
    _, plan, poll_results = _load(root)
    promoted = {status.topic.write_in: status.id for status in plan.statuses if status.topic.write_in}
    found = _write_ins(plan, poll_results)
    for reference, text, when in found:
        mark = f"  [now topic '{promoted[text]}']" if text in promoted else ""
        # Readers' own words: escaped, so no escape sequence reaches the terminal.
        click.echo(f"{reference}  ({when or 'no lesson'}) “{terminal_text(text)}”{mark}")
    waiting = sum(1 for _, text, _ in found if text not in promoted)
    click.echo(
        f"Listed {plural(len(found), 'write-in')} ({waiting} not yet topics); promote one with "
        f"'lessonpress topics promote <poll-id>:<n>' in {time.perf_counter() - started:.2f} s"
    )


@topics_group.command("promote")
@click.argument("reference")
@click.option("--title", default="", help="The title readers will see (default: the reader's words).")
@click.option("--id", "topic_id", default="", help="The topic's id (default: made from the title).")
@click.option("--description", default="", help="One line on what a lesson on it would answer.")
@click.pass_obj
def promote_command(root: Path, reference: str, title: str, topic_id: str, description: str) -> None:
    """Turn the write-in REFERENCE (`<poll-id>:<n>`, as 'topics write-ins' lists it) into a topic."""
    started = time.perf_counter()
    config, plan, poll_results = _load(root)
    texts = {ref: text for ref, text, _ in _write_ins(plan, poll_results)}
    if reference not in texts:
        poll_id = reference.partition(":")[0]
        shown = results_path(config, poll_id).relative_to(root).as_posix()
        raise Refused(SourceError(shown, 0, f"has no write-in '{reference}': list them with 'lessonpress topics write-ins'"))
    text = texts[reference]
    already = next((status.id for status in plan.statuses if status.topic.write_in == text), None)
    if already:
        raise Refused(SourceError(BACKLOG_FILE, 0, f"write-in '{reference}' is already topic '{already}'"))
    topic = _add(config, plan, title or text, topic_id, description, write_in=text)
    click.echo(f"Promoted write-in {reference} to topic '{topic.id}' in {BACKLOG_FILE}:{topic.line} in {time.perf_counter() - started:.2f} s")
