"""Automatic topic polls: which backlog topics each lesson offers, and what readers voted for them.

The rule, stable by construction because it reads only facts fixed when a lesson is published:
a lesson without its own `poll:` offers the open topics that were `added` before the day of the
lesson and are not covered by a lesson dated at or before it; it takes `[polls] auto_topics` of
them, those offered least often by earlier lessons first (lessons in date order, drafts
included), then the oldest, then by id. Votes are not part of the rule: they keep arriving
after an issue went out, and the choices an issue showed must never change.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ..content.config import SiteConfig
from ..content.frontmatter import front_matter_lines
from ..content.lesson import Lesson, Poll
from ..errors import SourceError
from .backlog import BACKLOG_FILE, Backlog, read_backlog
from .model import Issue, PollResults, Topic, TopicBoard, TopicStatus, TopicVotes


@dataclass(frozen=True)
class TopicPlan:
    """The lessons with their automatic polls, and every topic's votes and coverage."""

    lessons: tuple[Lesson, ...]
    statuses: tuple[TopicStatus, ...]  # backlog order
    errors: tuple[SourceError, ...]

    def asked(self) -> dict[str, TopicStatus]:
        """The topic each covering lesson answers, keyed by the lesson's source."""
        found: dict[str, TopicStatus] = {}
        for status in self.statuses:
            for lesson in status.covered_by:
                found.setdefault(lesson.source, status)
        return found

    def board(self, issues: Iterable[Issue]) -> TopicBoard:
        """Split the backlog for a build: a topic is covered once a lesson that answers it is published."""
        published = {issue.lesson.source: issue for issue in issues}
        open_topics: list[TopicStatus] = []
        covered: list[tuple[TopicStatus, Issue]] = []
        for status in self.statuses:
            answer = next((published[lesson.source] for lesson in status.covered_by if lesson.source in published), None)
            # Polls of lessons not out yet stay private, like the lessons themselves.
            status = replace(status, history=tuple(entry for entry in status.history if entry.lesson.source in published))
            if answer is None:
                open_topics.append(status)
            else:
                covered.append((status, answer))
        open_topics.sort(key=lambda status: (-status.votes, status.topic.added, status.id))
        covered.sort(key=lambda pair: (pair[1].lesson.date, pair[1].lesson.source), reverse=True)
        return TopicBoard(open=tuple(open_topics), covered=tuple(covered))


def _order(lesson: Lesson) -> tuple[datetime, str]:
    return lesson.date, lesson.source


def _coverage(config: SiteConfig, backlog: Backlog, lessons: Iterable[Lesson]) -> tuple[dict[str, list[Lesson]], list[SourceError]]:
    """Map topic ids to the lessons that answer them: `covers:` in a lesson or `covered_by` in the backlog."""
    ids = [topic.id for topic in backlog.topics]
    covering: dict[str, list[Lesson]] = {topic_id: [] for topic_id in ids}
    errors: list[SourceError] = []
    by_path: dict[str, Lesson] = {}
    for lesson in sorted(lessons, key=_order):
        by_path[f"{lesson.series}/{lesson.slug}"] = lesson
        if lesson.covers in covering:
            covering[lesson.covers].append(lesson)
        elif lesson.covers:
            line = front_matter_lines(config.root / lesson.source).get("covers", 1)
            close = difflib.get_close_matches(lesson.covers, ids, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            fix = f"use an id from {BACKLOG_FILE} (list them with 'lessonpress topics')" if backlog.exists else f"there is no {BACKLOG_FILE}: add the topic with 'lessonpress topics add', or remove 'covers'"
            errors.append(SourceError(lesson.source, line, f"covers unknown topic '{lesson.covers}'{hint}: {fix}"))
    for topic in backlog.topics:
        if not topic.covered_by:
            continue
        covered_by = by_path.get(topic.covered_by.strip("/"))
        if covered_by is None:
            # The example is one of this site's own lessons: the example site's names mean nothing here.
            example = f", e.g. {next(iter(sorted(by_path)))}" if by_path else ""
            errors.append(SourceError(BACKLOG_FILE, topic.line, f"topic '{topic.id}' is covered_by '{topic.covered_by}', which is no lesson: write series/slug{example}"))
        elif covered_by not in covering[topic.id]:
            covering[topic.id].append(covered_by)
    for answers in covering.values():
        answers.sort(key=_order)
    return covering, errors


def choose_topics(
    lessons: Iterable[Lesson], topics: tuple[Topic, ...], covering: Mapping[str, list[Lesson]], count: int, tz: ZoneInfo
) -> dict[str, tuple[Topic, ...]]:
    """Apply the module's rule: the topics each lesson without its own poll offers, keyed by lesson source."""
    offered: Counter[str] = Counter()
    chosen: dict[str, tuple[Topic, ...]] = {}
    if not topics:
        return chosen  # nothing to offer: spare the walk over every lesson, which a big site pays on each rebuild
    for lesson in sorted(lessons, key=_order):
        if lesson.poll is not None or lesson.no_poll:
            continue
        day = lesson.date.astimezone(tz).date()
        candidates = [
            topic for topic in topics
            if topic.added < day and not any(_order(answer) <= _order(lesson) for answer in covering.get(topic.id, ()))
        ]
        picks = tuple(sorted(candidates, key=lambda topic: (offered[topic.id], topic.added, topic.id))[:count])
        if picks:
            chosen[lesson.source] = picks
            offered.update(topic.id for topic in picks)
    return chosen


def plan_topics(
    config: SiteConfig,
    lessons: Iterable[Lesson],
    poll_results: Mapping[str, PollResults],
    read: Callable[[SiteConfig], tuple[Backlog, list[SourceError]]] = read_backlog,
) -> TopicPlan:
    """Give lessons their automatic polls and add every poll's votes to the topics it offered."""
    lessons = tuple(lessons)
    backlog, errors = read(config)
    covering, coverage_errors = _coverage(config, backlog, lessons)
    chosen = choose_topics(lessons, backlog.topics, covering, config.polls.auto_topics, config.tz)
    history: dict[str, list[TopicVotes]] = {topic.id: [] for topic in backlog.topics}
    planned: list[Lesson] = []
    for lesson in lessons:
        picks = chosen.get(lesson.source)
        if not picks:
            planned.append(lesson)
            continue
        poll = Poll(id=f"{lesson.series}-{lesson.slug}", question=config.polls.question, options=tuple(topic.title for topic in picks))
        planned.append(replace(lesson, poll=poll))
        results = poll_results.get(poll.id)
        # Options are matched by number, as the vote subjects are: renaming a topic keeps its votes.
        votes = {option.choice: option.votes for option in results.options} if results else {}
        for choice, topic in enumerate(picks, start=1):
            history[topic.id].append(TopicVotes(poll=poll.id, lesson=lesson, choice=choice, votes=votes.get(choice, 0)))
    statuses = []
    for topic in backlog.topics:
        offers = sorted(history[topic.id], key=lambda entry: _order(entry.lesson), reverse=True)
        statuses.append(TopicStatus(topic=topic, votes=sum(entry.votes for entry in offers), history=tuple(offers), covered_by=tuple(covering[topic.id])))
    # A broken backlog entry would make every lesson that covers it an "unknown topic" too: report the cause only.
    return TopicPlan(tuple(planned), tuple(statuses), tuple(errors or coverage_errors))

