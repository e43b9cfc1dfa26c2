"""Sort readers' replies by lesson: by the plus-address they were sent to, else by their `Re:` subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..render import mailto
from ..site.model import Issue, Site
from .sources import Inbox, Letter
from .tally import EPOCH, poll_subjects, recognise, subject_key


@dataclass(frozen=True)
class Reply:
    """One reply: when, the reader's display name (never the address) and their first lines."""

    date: datetime | None
    name: str
    first_lines: tuple[str, ...]


@dataclass(frozen=True)
class LessonReplies:
    issue: Issue
    replies: tuple[Reply, ...]  # newest first


@dataclass(frozen=True)
class ReplyList:
    """Replies per lesson (lessons with the newest reply first) and what was left over."""

    lessons: tuple[LessonReplies, ...]
    votes: int  # vote mails: `polls tally` counts those
    unmatched: int  # mails that name no lesson
    unreadable: int

    def to_json(self) -> dict[str, Any]:
        """A plain structure for `--json`; holds no addresses."""
        return {
            "lessons": [
                {
                    "series": item.issue.lesson.series,
                    "slug": item.issue.lesson.slug,
                    "title": item.issue.lesson.title,
                    "count": len(item.replies),
                    "replies": [
                        {"date": reply.date.isoformat() if reply.date else None, "name": reply.name, "first_lines": list(reply.first_lines)}
                        for reply in item.replies
                    ],
                }
                for item in self.lessons
            ],
            "votes": self.votes,
            "unmatched": self.unmatched,
            "unreadable": self.unreadable,
        }


def _lesson_of(letter: Letter, by_address: dict[str, list[Issue]], by_subject: dict[str, Issue]) -> Issue | None:
    by_subject_match = by_subject.get(subject_key(letter.subject))
    for address in letter.recipients:
        candidates = by_address.get(address, [])
        if len(candidates) == 1:
            return candidates[0]
        if by_subject_match in candidates:
            return by_subject_match
    return by_subject_match


def collect_replies(site: Site, inbox: Inbox) -> ReplyList:
    """Group the inbox's replies by the lesson they answer; votes and stray mail are only counted."""
    config = site.config
    issues = sorted(site.issues, key=lambda issue: issue.lesson.source)
    by_address: dict[str, list[Issue]] = {}
    for issue in issues:
        by_address.setdefault(mailto.reply_address(config, issue).lower(), []).append(issue)
    by_subject = {subject_key(mailto.reply_subject(issue)): issue for issue in issues}
    polls = [poll_subjects(issue.lesson.poll) for issue in issues if issue.lesson.poll is not None]
    found: dict[str, list[tuple[Letter, Issue]]] = {}
    votes = unmatched = 0
    for letter in inbox.letters:
        if recognise(letter, polls) is not None:
            votes += 1
            continue
        answered = _lesson_of(letter, by_address, by_subject)
        if answered is None:
            unmatched += 1
            continue
        found.setdefault(answered.lesson.source, []).append((letter, answered))

    def newest(pair: tuple[Letter, Issue]) -> tuple[datetime, int]:
        return pair[0].date or EPOCH, pair[0].position

    groups = []
    for pairs in found.values():
        pairs.sort(key=newest, reverse=True)
        replies = tuple(Reply(letter.date, letter.name, letter.first_lines()) for letter, _ in pairs)
        groups.append((newest(pairs[0]), LessonReplies(pairs[0][1], replies)))
    groups.sort(key=lambda group: (group[0], group[1].issue.lesson.source), reverse=True)
    return ReplyList(tuple(group for _, group in groups), votes=votes, unmatched=unmatched, unreadable=len(inbox.skipped))
