"""In-memory limits for one endpoint process: sliding windows per key, and the last action handed off per reader.

They live in the process (a single waitress process with threads), so a restart forgets them:
the worst a restart lets through is one more window's worth of mail.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import deque
from dataclasses import dataclass


def client_key(remote: str) -> str:
    """The key a client's requests are counted under: its IPv4 address, or its IPv6 /64 (one home or host holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)  # ::ffff:192.0.2.1 is the IPv4 client it names
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def address_key(address: str) -> str:
    """The key confirmations to one mailbox are counted under: `name+anything@` is the same inbox as `name@`."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.partition('+')[0] or local}@{domain}"


@dataclass(frozen=True)
class Window:
    """At most `count` events per `seconds`."""

    count: int
    seconds: float


class SlidingLimit:
    """Count events per key in a sliding window; `take` says how long the key must wait, 0 when it may go (and counts it)."""

    def __init__(self, window: Window, max_keys: int = 100_000) -> None:
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def _sweep(self, now: float) -> None:
        # Forget keys whose every event has left the window, so a flood of new keys cannot grow memory without bound.
        edge = now - self.window.seconds
        for key in [key for key, times in self._events.items() if times[-1] <= edge]:
            del self._events[key]

    def take(self, key: str, now: float) -> float:
        """Count one event for `key` if the window allows it and return 0; else return the seconds until it would."""
        with self._lock:
            times = self._events.get(key)
            if times is None:
                if len(self._events) >= self._max_keys:
                    self._sweep(now)
                    if len(self._events) >= self._max_keys:
                        return self.window.seconds  # full of live keys: refuse rather than forget a limit
                times = self._events[key] = deque()
            while times and times[0] <= now - self.window.seconds:
                times.popleft()
            if len(times) >= self.window.count:
                return times[0] + self.window.seconds - now
            times.append(now)
            return 0.0

    def give_back(self, key: str) -> None:
        """Uncount the last event of `key` (its mail could not be sent, so it cost the relay nothing)."""
        with self._lock:
            times = self._events.get(key)
            if times:
                times.pop()


class HandedOff:
    """The last action handed off per reader, so a replayed link or a client that POSTs twice sends one hand-off, not a flood."""

    def __init__(self, seconds: float, max_keys: int = 100_000) -> None:
        self._seconds = seconds
        self._last: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def claim(self, address: str, action: str, now: float) -> bool:
        """Say whether `action` for `address` should be handed off now (and remember it), False when it just was."""
        key = address.lower()
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[0] == action and now - last[1] < self._seconds:
                return False
            if len(self._last) >= self._max_keys:
                self._last = {item: value for item, value in self._last.items() if now - value[1] < self._seconds}
            self._last[key] = (action, now)
            return True

    def release(self, address: str) -> None:
        """Forget the claim: its hand-off could not be sent, so the reader's next try must go through."""
        with self._lock:
            self._last.pop(address.lower(), None)
