"""Email courses: which lesson of a series each subscriber is due today."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import SourceError
from ..site.model import Issue, Series
from .ledger import lesson_id
from .subscribers import Subscriber


def due_at(series: Series, index: int, subscriber: Subscriber) -> datetime:
    """When lesson `index` (0 is the first) falls due: the first on subscribing, then one every cadence."""
    assert subscriber.subscribed_at is not None
    return subscriber.subscribed_at + timedelta(days=series.info.cadence_days * index)


@dataclass(frozen=True)
class CoursePlan:
    deliveries: tuple[tuple[Issue, Subscriber], ...]
    waiting: int  # subscribers with nothing due today (or whose next lesson is not published yet)
    finished: int  # subscribers who have had every lesson
    warnings: tuple[SourceError, ...]


def plan_course(
    series: Series,
    subscribers: Iterable[Subscriber],
    handled: set[tuple[str, str]],
    now: datetime,
    *,
    catch_up: bool = False,
    list_name: str = "",
) -> CoursePlan:
    """Pick each subscriber's next due lesson (every due one with `catch_up`) that the ledger has not handled."""
    deliveries: list[tuple[Issue, Subscriber]] = []
    warnings: list[SourceError] = []
    waiting = finished = 0
    for subscriber in subscribers:
        if subscriber.subscribed_at is None:
            warnings.append(SourceError(list_name, subscriber.line, f"{subscriber.email} has no subscribed_at: a course needs the date they subscribed; row skipped"))
            continue
        pending = [(index, issue) for index, issue in enumerate(series.issues) if (lesson_id(issue), subscriber.key) not in handled]
        if not pending:
            finished += 1
            continue
        due = []
        for index, issue in pending:
            # A lesson not yet published (dated later) holds the course back rather than being skipped.
            if issue.scheduled or due_at(series, index, subscriber) > now:
                break
            due.append(issue)
            if not catch_up:
                break
        if not due:
            waiting += 1
        deliveries.extend((issue, subscriber) for issue in due)
    return CoursePlan(deliveries=tuple(deliveries), waiting=waiting, finished=finished, warnings=tuple(warnings))
