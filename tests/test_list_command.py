"""`lessonpress list` as a publisher uses it: what each command prints, and what the list file then holds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result

from lessonpress.cli import main
from lessonpress.send.roster import LIST_PATH
from lessonpress.send.subscribers import read_subscribers

LISTS = Path(__file__).parent / "data" / "lists"
SUMMARY = re.compile(r" in \d+\.\d\d s$")


def lp(root: Path, *arguments: str) -> Result:
    """Run `lessonpress -C root ARGUMENTS…`; fail on a traceback; check that it ends with a timed one-line summary or a clear stop."""
    result = CliRunner().invoke(main, ["-C", str(root), *arguments])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code == 0:
        last = [stream.rstrip("\n").splitlines()[-1] for stream in (result.stdout, result.stderr) if stream.strip()]
        assert any(SUMMARY.search(line) for line in last), last
    return result


def counts(root: Path) -> dict[str, int]:
    shown = lp(root, "list").stdout.splitlines()[:-1]
    return {status: int(count) for status, count in (line.split() for line in shown)}


def test_an_empty_site_shows_zero_readers_and_makes_no_file(tmp_path: Path) -> None:
    result = lp(tmp_path, "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:5] == [f"{status:<13}{0:>7}" for status in ("pending", "active", "unsubscribed", "bounced", "complained")]
    assert "0 readers on the list, 0 active, in .lessonpress/list.sqlite (not made yet" in result.stdout
    assert not (tmp_path / ".lessonpress").exists()


def test_add_remove_show_and_add_again(tmp_path: Path) -> None:
    assert SUMMARY.search(lp(tmp_path, "list", "add", "ann@example.org", "--name", "Ann Archer", "--tag", "vip").stdout.strip())
    assert lp(tmp_path, "list", "add", "ann@example.org").stdout.startswith("ann@example.org is already active")
    confirm = lp(tmp_path, "list", "add", "bob@example.org", "--confirm")
    assert confirm.stdout.startswith("Added bob@example.org as pending; the next 'lessonpress inbox' pass sends the confirmation")
    assert lp(tmp_path, "list", "remove", "ann@example.org").stdout.startswith("Unsubscribed ann@example.org (was active)")
    assert counts(tmp_path) == {"pending": 1, "active": 0, "unsubscribed": 1, "bounced": 0, "complained": 0}

    shown = lp(tmp_path, "list", "show", "ANN@example.org").stdout.splitlines()
    assert shown[:4] == ["ann@example.org  unsubscribed", "  name:    Ann Archer", "  tags:    vip", shown[3]]
    history = [line.split(None, 3)[1:] for line in shown[5:-1]]
    assert history == [["active", "command", "lessonpress list add"], ["unsubscribed", "command", "lessonpress list remove"]]
    assert shown[-1].startswith("Showed ann@example.org: unsubscribed, 2 changes in ")

    again = lp(tmp_path, "list", "add", "ann@example.org")
    assert again.stdout.startswith("ann@example.org was unsubscribed, is active now")


def test_unknown_and_invalid_addresses_stop_with_a_message(tmp_path: Path) -> None:
    for command in ("show", "remove"):
        result = lp(tmp_path, "list", command, "nobody@example.org")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [".lessonpress/list.sqlite: nobody@example.org is not on the list", "nothing was changed"]
    result = lp(tmp_path, "list", "add", "not-an-address")
    assert result.exit_code == 1 and ".lessonpress/list.sqlite: 'not-an-address' is not a valid email address" in result.stderr


def test_every_format_imports_and_is_counted(tmp_path: Path) -> None:
    expected = {
        "lessonpress.csv": "lessonpress): 3 added",
        "subscribed_members_export_1a2b3c.csv": "mailchimp): 2 added",
        "unsubscribed_members_export_1a2b3c.csv": "mailchimp): 1 added",
        "cleaned_members_export_1a2b3c.csv": "mailchimp): 1 added",
        "substack.csv": "substack): 3 added",
        "buttondown.csv": "buttondown): 3 added",
        "listmonk.csv": "listmonk): 2 added",
    }
    for name, said in expected.items():
        result = lp(tmp_path, "list", "import", str(LISTS / name))
        assert result.exit_code == 0, result.output
        assert f"Imported {LISTS / name} ({said}, 0 changed, 0 unchanged in " in result.stdout
    assert counts(tmp_path) == {"pending": 2, "active": 6, "unsubscribed": 6, "bounced": 1, "complained": 0}
    shown = lp(tmp_path, "list", "show", "gus@example.org").stdout
    assert f"bounced       import   {LISTS / 'cleaned_members_export_1a2b3c.csv'}:2" in shown


def test_import_never_reactivates_an_unsubscribed_reader(tmp_path: Path) -> None:
    lp(tmp_path, "list", "add", "ann@example.org")
    lp(tmp_path, "list", "remove", "ann@example.org")
    result = lp(tmp_path, "list", "import", str(LISTS / "lessonpress.csv"))
    assert result.exit_code == 0
    assert f"{LISTS / 'lessonpress.csv'}:2: note: ann@example.org stays unsubscribed: an import never reactivates a reader ('lessonpress list add' does)" in result.stderr
    assert "2 added, 1 changed, 0 unchanged, 1 kept as they were in " in result.stdout
    assert lp(tmp_path, "list", "show", "ann@example.org").stdout.startswith("ann@example.org  unsubscribed")


def test_forget_erases_the_address_from_the_file_and_blocks_reimport(tmp_path: Path) -> None:
    lp(tmp_path, "list", "import", str(LISTS / "subscribed_members_export_1a2b3c.csv"))
    lp(tmp_path, "list", "remove", "dana@example.org")
    result = lp(tmp_path, "list", "forget", "dana@example.org")
    assert result.stdout.startswith("Forgot dana@example.org: address, name and history erased; only 'lessonpress list add' can bring it back")
    for path in (tmp_path / ".lessonpress").iterdir():
        data = path.read_bytes()
        assert b"dana@example.org" not in data and b"Diaz" not in data and b"early birds" not in data, path.name

    again = lp(tmp_path, "list", "import", str(LISTS / "subscribed_members_export_1a2b3c.csv"))
    assert "dana@example.org was forgotten ('lessonpress list forget'): not imported" in again.stderr
    assert counts(tmp_path)["active"] == 1
    shown = lp(tmp_path, "list", "show", "dana@example.org")
    assert shown.exit_code == 1 and "dana@example.org was forgotten: nothing about it is kept but a digest" in shown.stderr

    assert lp(tmp_path, "list", "add", "dana@example.org").stdout.startswith("Added dana@example.org as active")
    assert counts(tmp_path)["active"] == 2


def test_a_damaged_list_stops_every_command_and_stays_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / LIST_PATH
    path.parent.mkdir()
    damaged = b"SQLite format 3\x00" + bytes(range(256)) * 16
    path.write_bytes(damaged)
    for arguments in (["list"], ["list", "add", "ann@example.org"], ["list", "import", str(LISTS / "lessonpress.csv")], ["list", "export"], ["list", "forget", "a@example.org"]):
        result = lp(tmp_path, *arguments)
        assert result.exit_code == 1, arguments
        assert result.stderr.startswith(".lessonpress/list.sqlite: is truncated: 4112 bytes, not a whole number of its 65536-byte pages"), result.stderr
        assert "restore .lessonpress/list.sqlite from a backup, or try 'sqlite3 .lessonpress/list.sqlite .recover" in result.stderr
    assert path.read_bytes() == damaged
    assert sorted(child.name for child in path.parent.iterdir()) == ["list.sqlite"]


def test_a_malformed_csv_reports_every_bad_line_and_changes_nothing(tmp_path: Path) -> None:
    lp(tmp_path, "list", "add", "ann@example.org")
    shown = str(LISTS / "malformed.csv")
    result = lp(tmp_path, "list", "import", shown)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{shown}:3: 'not-an-address' is not a valid email address",
        f"{shown}:4: pat@example.org is already on line 2",
        f"{shown}:5: 'next tuesday' is not a date like 2026-01-31 or 2026-01-31T09:00",
        "import stopped: 3 bad rows; the list was not changed (fix them, or pass --skip-bad to import the other rows)",
    ]
    assert counts(tmp_path)["active"] == 1
    skipped = lp(tmp_path, "list", "import", shown, "--skip-bad")
    assert f"{shown}:3: skipped: 'not-an-address' is not a valid email address" in skipped.stderr
    assert "2 added, 0 changed, 0 unchanged, 3 bad rows skipped in " in skipped.stdout


def test_unreadable_import_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"email,name\nann@example.org,Ann\nbo@example.org,Bj\xf6rn\n")
    result = lp(tmp_path, "list", "import", str(latin))
    assert result.exit_code == 1 and f"{latin}:3: is not valid UTF-8: export the list as UTF-8 CSV" in result.stderr
    result = lp(tmp_path, "list", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1 and "missing.csv: file not found: check the path" in result.stderr
    odd = tmp_path / "odd.csv"
    odd.write_text("Who,Where\nann,here\n", encoding="utf-8")
    result = lp(tmp_path, "list", "import", str(odd))
    assert result.exit_code == 1 and f"{odd}:1: cannot tell which service wrote this file" in result.stderr
    assert not (tmp_path / ".lessonpress").exists()


def test_export_writes_what_send_reads(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name in ("lessonpress.csv", "buttondown.csv", "listmonk.csv"):
        lp(site, "list", "import", str(LISTS / name))
    printed = lp(site, "list", "export")
    assert printed.stdout.splitlines()[0] == "email,name,subscribed_at,status,tags"
    assert "ann@example.org,Ann Archer,2026-01-05T00:00:00+00:00,active,\"onboarding, vip\"" in printed.stdout
    assert printed.stderr.startswith("Exported 8 readers in ")

    target = tmp_path / "active.csv"
    assert lp(site, "list", "export", "--active", "-o", str(target)).stdout.startswith(f"Exported 3 readers to {target}")
    refused = lp(site, "list", "export", "-o", str(target))
    assert refused.exit_code == 1 and f"{target}: already exists: pass --force to overwrite it" in refused.stderr
    assert lp(site, "list", "export", "--active", "-o", str(target), "--force").exit_code == 0
    assert target.stat().st_mode & 0o777 == 0o600  # readers' personal data: readable by the publisher alone
    sendable = read_subscribers(target, ZoneInfo("UTC"))
    assert [subscriber.email for subscriber in sendable.subscribers] == ["ann@example.org", "kim@example.org", "ned@example.org"]
    assert sendable.warnings == ()

    everything = tmp_path / "all.csv"
    lp(site, "list", "export", "-o", str(everything))
    copy = tmp_path / "copy"
    assert "8 added" in lp(copy, "list", "import", str(everything)).stdout
    assert counts(copy) == counts(site)


def test_init_keeps_the_list_out_of_git(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "letters")])
    assert result.exit_code == 0, result.output
    ignored = (tmp_path / "letters" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".lessonpress/" in ignored and "output/" in ignored
    shutil.rmtree(tmp_path / "letters")
