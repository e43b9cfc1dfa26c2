"""Run numbered pieces of work in forked worker processes, results streaming back as they finish."""

from __future__ import annotations

import gc
import os
import pickle
import selectors
import signal
import struct
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_LENGTH = struct.Struct("<Q")
_BLOCK = struct.Struct("<I")
# Work is cut into this many contiguous blocks per worker, handed out as workers free up: a worker
# slowed by another program on its core takes fewer blocks instead of holding up the others.
BLOCKS_PER_WORKER = 8


def usable_cpus() -> int:
    """The CPUs this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether `fan_out` may fork now: the system forks, and no other thread could hold a lock a child would inherit."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _picklable(error: BaseException) -> BaseException:
    """The error itself when it can cross the pipe, else one that says the same."""
    try:
        pickle.dumps(error)
    except Exception:  # noqa: BLE001 - any error that cannot be pickled is described instead
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _blocks(count: int, workers: int) -> list[range]:
    """Cut `range(count)` into contiguous blocks, a few per worker."""
    number = max(1, min(count, workers * BLOCKS_PER_WORKER))
    return [range(block * count // number, (block + 1) * count // number) for block in range(number)]


def _claimed(tasks: int, blocks: list[range]) -> Iterator[int]:
    """Every index of each block this worker claims from the shared task pipe, until the pipe is empty.

    The parent wrote every block number before forking and closed its end, so a read returns one
    whole number (pipe reads are atomic for so few bytes) or end of file.
    """
    while claimed := os.read(tasks, _BLOCK.size):
        yield from blocks[_BLOCK.unpack(claimed)[0]]


def _child(indices: Iterator[int], work: Callable[[int], T], pipe: int) -> None:
    """Run the worker's share and send each result, or the first error, to the parent; never returns."""
    status = 1  # until the whole share is sent: a child that stops early for any reason is seen as failed
    try:
        with os.fdopen(pipe, "wb") as out:
            for index in indices:
                try:
                    record: tuple[str, int, object] = ("done", index, work(index))
                except BaseException as error:  # noqa: BLE001 - every failure goes to the parent, which raises it
                    record = ("error", index, _picklable(error))
                blob = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
                out.write(_LENGTH.pack(len(blob)) + blob)
                out.flush()
                if record[0] == "error":
                    break
            else:
                status = 0
    finally:
        # _exit: the parent's atexit handlers and buffered output are the parent's, not to run twice.
        os._exit(status)


def fan_out(count: int, work: Callable[[int], T], workers: int) -> Generator[tuple[int, T], None, None]:
    """Yield `(index, work(index))` for every index below `count`, computed in `workers` forked processes, as each finishes.

    The indices are cut into contiguous blocks (neighbouring work tends to use neighbouring values,
    so each child touches, and copies, fewer of the parent's memory pages), which the workers claim
    one at a time as they finish the last: on a core shared with another program a worker takes
    fewer blocks, not an equal share that the others then wait for.
    The children share the parent's memory as it was at the fork, so `work` may use any value the
    parent holds. The first error a worker meets is raised here once every worker has stopped.
    """
    # Frozen objects are never visited by the collector, so the children do not copy the pages
    # holding the parent's objects just to collect them.
    gc.freeze()
    children: dict[int, int] = {}  # read end of the pipe -> pid
    blocks = _blocks(count, workers)
    tasks, handing = os.pipe()
    try:
        try:
            # A few hundred bytes at most: the pipe's buffer takes them all without blocking.
            os.write(handing, b"".join(_BLOCK.pack(block) for block in range(len(blocks))))
        finally:
            os.close(handing)  # before forking: the workers see end of file once every block is claimed
        for _ in range(workers):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _child(_claimed(tasks, blocks), work, write)
            os.close(write)
            children[read] = pid
    finally:
        os.close(tasks)
        gc.unfreeze()
    errors: list[tuple[int, BaseException]] = []
    finished = False
    try:
        yield from _results(children, errors)
        finished = True
    finally:
        if not finished:  # the parent stopped early (an error, Ctrl-C): the workers' results are not wanted
            for pid in children.values():
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        statuses = [os.waitpid(pid, 0)[1] for pid in children.values()]
    if errors:
        raise min(errors, key=lambda item: item[0])[1]
    if any(statuses):
        raise RuntimeError(f"a worker process died ({', '.join(str(status) for status in statuses if status)}); run the build again")


def _results(children: dict[int, int], errors: list[tuple[int, BaseException]]) -> Iterator[tuple[int, T]]:
    """Read length-prefixed records from every child's pipe until all are closed."""
    buffers = {fd: bytearray() for fd in children}
    with selectors.DefaultSelector() as selector:
        for fd in children:
            selector.register(fd, selectors.EVENT_READ)
        try:
            yield from _read_all(selector, buffers, errors)
        finally:
            for key in list(selector.get_map().values()):
                os.close(key.fd)


def _read_all(selector: selectors.BaseSelector, buffers: dict[int, bytearray], errors: list[tuple[int, BaseException]]) -> Iterator[tuple[int, T]]:
    while selector.get_map():
        for key, _ in selector.select():
            fd = key.fd
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                selector.unregister(fd)
                os.close(fd)
                continue
            buffer = buffers[fd]
            buffer += chunk
            while len(buffer) >= _LENGTH.size:
                (length,) = _LENGTH.unpack_from(buffer)
                if len(buffer) < _LENGTH.size + length:
                    break
                kind, index, value = pickle.loads(bytes(buffer[_LENGTH.size : _LENGTH.size + length]))
                del buffer[: _LENGTH.size + length]
                if kind == "error":
                    errors.append((index, value))
                else:
                    yield index, value
