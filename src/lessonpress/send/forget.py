"""Forget a reader everywhere `send/` keeps them: the list, then the send ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .ledger import LEDGER_PATH, Ledger
from .roster import Forgotten, Roster


@dataclass(frozen=True)
class Erased:
    """What `forget_reader` did: the list's part, and how many ledger rows now carry the digest in place of the address."""

    listed: Forgotten
    ledger_rows: int


def forget_reader(root: Path, address: str) -> Erased:
    """Erase `address` from the list, keeping its digest, and put that digest where the ledger held the address.

    The ledger's rows are kept, not deleted: its counts stay true, and the digest (keyed with a key kept only
    in the list) names no one to a reader of the ledger alone.
    """
    roster = Roster.open(root)
    try:
        listed = roster.forget(address)
        digest = roster.digest(address)
    finally:
        roster.close()
    if not os.path.lexists(root / LEDGER_PATH):
        return Erased(listed, 0)
    ledger = Ledger.open(root)
    try:
        return Erased(listed, ledger.forget(address, digest))
    finally:
        ledger.close()
