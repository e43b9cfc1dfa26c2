"""Hostile subscriber lists and suppression files: a broken quote stops the send, a bad row is skipped by line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_send_support import LESSON, NOW, SECRET, Recorder, make_site, smtp_server

from .conftest import run_cli

HEADER = "email,name\n"
STOPPED = "send stopped: fix the problem above and run the same command again"
NEVER_CLOSES = "a quoted cell opened on this line never closes: close the quote or remove it"
RUNS_INTO_3 = "a quoted cell opened on this line runs on into line 3, which holds an address of its own: close the quote on this line or remove it"
TEXT_AFTER = 'text follows the closing quote of a quoted cell: quote the whole cell and double any quote inside it ("")'
HUGE = "x" * 200_000


# (id, list bytes, suppression bytes or None, lines the user sees as `NAME:LINE: …`, {address: name greeted} the relay receives)
CASES: list[tuple[str, bytes, bytes | None, list[str], dict[str, str]]] = [
    # A list that cannot be trusted stops the send whole: nobody is sent anything.
    ("quote-swallows-the-next-reader", b'email,name\nana@example.org,"Ana\nbob@example.org,Bob\n', None,
     [f"list.csv:2: {RUNS_INTO_3}"], {}),
    ("quote-open-at-the-end", b'email,name\nana@example.org,Ana\nbob@example.org,"Bob\n', None,
     [f"list.csv:3: {NEVER_CLOSES}"], {}),
    ("text-after-a-closing-quote", b'email,name\nana@example.org,"Ana" Smith\nbob@example.org,Bob\n', None,
     [f"list.csv:2: {TEXT_AFTER}"], {}),
    ("every-broken-quote-at-once", b'email,name\nana@example.org,"Ana\nbob@example.org,Bob\ncy@example.org,Cy\ndee@example.org,"Dee\n', None,
     [f"list.csv:2: {RUNS_INTO_3}", f"list.csv:5: {NEVER_CLOSES}"], {}),
    ("quote-open-in-the-header", b'email,"name\nana@example.org,Ana\n', None,
     ["list.csv:1: a quoted cell opened on this line runs on into line 2, which holds an address of its own: close the quote on this line or remove it"], {}),
    ("quote-open-in-the-suppression-file", HEADER.encode() + b"ana@example.org,Ana\nbob@example.org,Bob\n", b'email\n"bob@example.org\n',
     [f"suppress.csv:2: {NEVER_CLOSES}"], {}),
    ("nul-in-the-suppression-file", HEADER.encode() + b"ana@example.org,Ana\nbob@example.org,Bob\n", b"email\nbob@example.org\x00\n",
     ["suppress.csv:2: cell 1 holds a NUL byte: the file may be damaged or not text; export the list again as UTF-8 CSV;"
      " fix it, since an unreadable row may be someone who must not be mailed"], {}),
    ("utf-16-export", "email,name\r\nana@example.org,Ana\r\n".encode("utf-16"), None,
     ["list.csv: is not valid UTF-8: export the list as UTF-8 CSV"], {}),
    # A bad row is skipped with its line; the rest of the list is sent.
    ("a-name-over-128-kb", f"email,name\nana@example.org,{HUGE}\nbob@example.org,Bob\n".encode(), None,
     ["list.csv:2: warning: cell 2 is 200000 characters long, over the limit of 4096; row skipped"], {"bob@example.org": "Bob"}),
    ("a-quoted-address-over-128-kb", f'email,name\n"{HUGE}@example.org",Ana\nbob@example.org,Bob\n'.encode(), None,
     ["list.csv:2: warning: cell 1 is 200012 characters long, over the limit of 4096; row skipped"], {"bob@example.org": "Bob"}),
    ("nul-in-a-name", b"email,name\nana@example.org,A\x00na\nbob@example.org,Bob\n", None,
     ["list.csv:2: warning: cell 2 holds a NUL byte: the file may be damaged or not text; export the list again as UTF-8 CSV; row skipped"],
     {"bob@example.org": "Bob"}),
    ("an-unquoted-comma-in-a-name", b"email,name\nana@example.org,Smith, Ana\nbob@example.org,Bob\n", None,
     ['list.csv:2: warning: has 3 cells but the header names 2: a comma inside a name needs quotes, e.g. "Smith, Ana"; row skipped'],
     {"bob@example.org": "Bob"}),
    # What spreadsheets really write is read as meant.
    ("cr-only-line-ends", b"email,name\rana@example.org,Ana\rbob@example.org,Bob\r", None, [], {"ana@example.org": "Ana", "bob@example.org": "Bob"}),
    ("bom-and-crlf", b"\xef\xbb\xbfemail,name\r\nana@example.org,Ana\r\nbob@example.org,Bob\r\n", None, [],
     {"ana@example.org": "Ana", "bob@example.org": "Bob"}),
    ("quoted-name-over-two-lines-and-doubled-quotes", b'email,name\nana@example.org,"Ana\nSmith"\nbob@example.org,"Bob ""B"" Brown"\n', None, [],
     {"ana@example.org": "Ana Smith", "bob@example.org": 'Bob "B" Brown'}),
    ("trailing-empty-cells", b"email,name\nana@example.org,Ana,,,\nbob@example.org,Bob,\n", None, [],
     {"ana@example.org": "Ana", "bob@example.org": "Bob"}),
    ("no-final-line-end", b"email,name\nana@example.org,Ana\nbob@example.org,Bob", None, [],
     {"ana@example.org": "Ana", "bob@example.org": "Bob"}),
]


@pytest.mark.parametrize(("listed", "suppressed", "said", "received"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_hostile_list(tmp_path: Path, listed: bytes, suppressed: bytes | None, said: list[str], received: dict[str, str]) -> None:
    root = make_site(tmp_path)
    (tmp_path / "list.csv").write_bytes(listed)
    arguments = ["send", LESSON, "--list", str(tmp_path / "list.csv"), "--now", NOW.isoformat()]
    if suppressed is not None:
        (tmp_path / "suppress.csv").write_bytes(suppressed)
        arguments += ["--suppress", str(tmp_path / "suppress.csv")]
    handler = Recorder()
    with smtp_server(handler) as settings:
        env = {"LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{settings.port}", "LESSONPRESS_SECRET": SECRET}
        run = run_cli(root, *arguments, env=env)
    shown = [line.replace(f"{tmp_path}/", "") for line in run.stderr.splitlines()]
    for line in said:
        assert line in shown, run.said
    if not received:
        assert run.status == 1, run.said
        assert shown[-1] == STOPPED
        assert handler.copies() == {}, "a list that cannot be trusted is never half-sent"
        return
    assert run.status == 0, run.said
    assert not [line for line in shown if ": warning: " in line and line not in said], run.said
    assert set(handler.copies().elements()) == set(received) and len(handler.messages) == len(received)
    for recipients, message in handler.messages:
        [address] = recipients
        # The greeting names the reader ("Good morning, Ana!"): the name of no other row leaks into it.
        assert f", {received[address]}" in message.get_body(("plain",)).get_content().replace("\n", " "), f"{address} is greeted by their own name"
