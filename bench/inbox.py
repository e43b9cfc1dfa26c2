"""Benchmark: `lessonpress inbox` over a generated mbox of mixed mail (votes, replies, bounces, unsubscribes).

Run from the repository root:  python bench/inbox.py [--messages 10000] [--readers 2000]
It copies the example site into a temporary folder, puts `--readers` active readers on its list,
writes an mbox of `--messages` messages in the proportions a list sees after a send (two in three
votes, a quarter replies, one in twenty bounces from the real-world samples in tests/data/bounces,
re-addressed to a reader's VERP token, one in a hundred unsubscribes), then times a first pass
(everything new) and a second one over the same mailbox (everything already handled).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from lessonpress.mail.inbox import InboxRequest, run_inbox
from lessonpress.mail.sources import read_source
from lessonpress.send.roster import ImportRow, Roster
from lessonpress.tokens import make_token

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench"
DOMAIN = "retention.example.org"
POLL = "retention-the-first-ninety-days"
# The postfix sample's reader and token (made for it with the tests' secret), replaced per reader.
SAMPLE = REPO / "tests" / "data" / "bounces" / "postfix.eml"
SAMPLE_READER, SAMPLE_TOKEN, SAMPLE_ID = b"priya@example.com", b"b822c84e8bfa6c93a0ac7adae81c2a168", b"<20260114073104.7C41B3A0F2@"
LIST_SETTINGS = f"""
[list]
address = "letters@{DOMAIN}"
unsubscribe_address = "letters+unsubscribe-{{token}}@{DOMAIN}"
confirm_address = "letters+confirm-{{token}}@{DOMAIN}"
"""


def make_site(folder: Path, readers: list[str]) -> Path:
    root = folder / "site"
    root.mkdir()
    config = (REPO / "lessonpress.toml").read_text(encoding="utf-8")
    (root / "lessonpress.toml").write_text(config.replace("[polls]", f'bounce_address = "bounces+{{token}}@{DOMAIN}"\n\n[polls]') + LIST_SETTINGS, encoding="utf-8")
    shutil.copytree(REPO / "lessons", root / "lessons")
    # The backlog, without the poll results: the pass writes those.
    (root / "data").mkdir()
    shutil.copy(REPO / "data" / "topics.yml", root / "data" / "topics.yml")
    roster = Roster.open(root)
    roster.merge(ImportRow(source=f"bench:{number}", address=address) for number, address in enumerate(readers, start=1))
    roster.close()
    return root


def message(number: int, sender: str, to: str, subject: str, body: str, when: datetime) -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {format_datetime(when)}\n"
        f"Message-ID: <bench.{number}@reader.example>\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


def mixed_mail(count: int, readers: list[str]) -> list[bytes]:
    """`count` messages, the same for the same arguments: votes, replies, bounces and unsubscribes."""
    sample = SAMPLE.read_bytes()
    start = datetime.now(UTC) - timedelta(days=7)
    mails = []
    for number in range(count):
        reader = readers[(number * 7919) % len(readers)]  # a prime stride spreads messages over readers
        when = start + timedelta(seconds=number * 30)
        if number % 100 == 99:
            mails.append(message(number, reader, f"letters+unsubscribe-{make_token(SECRET, reader, 'unsubscribe')}@{DOMAIN}", "Unsubscribe", "", when))
        elif number % 20 == 3:
            bounce = sample.replace(SAMPLE_TOKEN, make_token(SECRET, reader, "bounce").encode()).replace(SAMPLE_READER, reader.encode())
            mails.append(bounce.replace(SAMPLE_ID, f"<bench.{number}@".encode()))  # each bounce its own message
        elif number % 4 == 1:
            mails.append(message(number, reader, f"lessons+the-first-ninety-days@{DOMAIN}", "Re: The First Ninety Days", f"Our first win takes {number % 12 + 1} weeks.\n\n> quoted lesson", when))
        else:
            mails.append(message(number, reader, f"polls@{DOMAIN}", f"Vote: {POLL} #{number % 4 + 1} option", "", when))
    return mails


def write_mbox(path: Path, mails: list[bytes]) -> None:
    # Each message after a "From " line; a body line starting "From " would need escaping, and none here does.
    path.write_bytes(b"".join(b"From bench@example.org Thu Jan  1 00:00:00 2026\n" + mail + b"\n" for mail in mails))


def reading(source: Path) -> float:
    """Time reading the mailbox alone (every message parsed), which `polls tally` and `replies` pay too."""
    started = time.perf_counter()
    read_source(str(source))
    return time.perf_counter() - started


def timed(root: Path, source: Path) -> tuple[float, str]:
    request = InboxRequest(root=root, source=str(source), now=datetime.now(UTC), environ={"LESSONPRESS_SECRET": SECRET})
    started = time.perf_counter()
    report = run_inbox(request)
    return time.perf_counter() - started, report.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=2_000)
    args = parser.parse_args()
    readers = [f"reader{number}@example.org" for number in range(args.readers)]
    with tempfile.TemporaryDirectory() as folder:
        root = make_site(Path(folder), readers)
        source = Path(folder) / "inbox.mbox"
        write_mbox(source, mixed_mail(args.messages, readers))
        print(f"{args.messages} messages ({source.stat().st_size / 1e6:.1f} MB mbox), {args.readers} readers on the list")
        print(f"  reading the mailbox alone (mail/sources.py, as polls tally): {reading(source):.2f} s")
        for label in ("first pass (all new)", "second pass (all handled)"):
            seconds, summary = timed(root, source)
            print(f"  {label}: {seconds:.2f} s, {args.messages / seconds:.0f} messages/s")
            print(f"    {summary}")


if __name__ == "__main__":
    main()
