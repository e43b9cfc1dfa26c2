"""Progress reporting for long stages, kept out of the pure stages' results."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

import click

T = TypeVar("T")
# Called with a label, the work items and how much work they stand for (default: one unit each);
# yields the items back as they are processed.
Progress = Callable[..., Iterator[T]]

# Below this many items a stage is over before a bar would help.
BAR_THRESHOLD = 200


def silent(label: str, items: Sequence[T], size: int = 0) -> Iterator[T]:
    """Report nothing: for library callers and tests."""
    yield from items


def terminal_bar(label: str, items: Sequence[T], size: int = 0) -> Iterator[T]:
    """Show a progress bar on stderr for long stages when stderr is a terminal."""
    if (size or len(items)) < BAR_THRESHOLD or not click.get_text_stream("stderr").isatty():
        yield from items
        return
    with click.progressbar(items, label=label, file=click.get_text_stream("stderr")) as bar:
        yield from bar


def _ignore(count: int) -> None:
    """Move no bar: stderr is a file or a pipe, where a bar's line would only be noise."""


@contextmanager
def moved_bar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A bar moved by hand, `update(done)`, shown on stderr only when it is a terminal."""
    stderr = click.get_text_stream("stderr")
    if not stderr.isatty():
        yield _ignore
        return
    with click.progressbar(length=length, label=label, file=stderr) as bar:
        yield bar.update


class Counted(Generic[T]):
    """Items that arrive one by one (from worker processes) with their number known ahead, so a bar can count them."""

    def __init__(self, items: Iterable[T], length: int) -> None:
        self._items = items
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)
