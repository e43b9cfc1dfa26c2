"""IMAP against a real server: Debian's dovecot on 127.0.0.1 with a throwaway config."""

from __future__ import annotations

import getpass
import imaplib
import json
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonpress.cli import main
from lessonpress.mail.sources import (
    PASSWORD_VARIABLE,
    InboxFailed,
    parse_imap_url,
    read_source,
)
from test_tally import check_results, email_links, example_site, voted  # noqa: F401 - fixtures

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "reader", "correct horse battery"


@dataclass(frozen=True)
class ImapServer:
    port: int
    mail: Path  # the user's Maildir root (INBOX); folders are `.Name` inside it
    uid: int  # who dovecot reads the mail as
    gid: int

    def url(self, folder: str, scheme: str = "imap") -> str:
        return f"{scheme}://{USER}@127.0.0.1:{self.port}/{folder}"

    def deliver(self, folder: str, mails: list) -> None:
        """Put mails into a folder as real Maildir files, owned by the mail user."""
        box = mailbox.Maildir(self.mail / f".{folder}", create=True)
        for mail in mails:
            box.add(mail)
        for path in [self.mail, *self.mail.rglob("*")]:
            os.chown(path, self.uid, self.gid)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _mail_user() -> tuple[int, int]:
    """Whoever runs the tests; as root, 'nobody', because dovecot never reads mail as root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _config(root: Path, port: int, uid: int, gid: int) -> str:
    me = getpass.getuser()
    # As root, dovecot wants its own unprivileged users; as anyone else, it runs everything as that user.
    internal, login = ("dovecot", "dovenull") if os.geteuid() == 0 else (me, me)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {uid}
mail_gid = {gid}
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
# The passwd file lives in pytest's private tmp folder, readable only by whoever runs the tests.
service auth {{
  user = {me}
}}
service auth-worker {{
  user = {me}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
"""


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """Start dovecot on a free loopback port; skip without it locally, fail without it in CI."""
    if not DOVECOT.exists():
        message = "dovecot is not installed: apt-get install dovecot-imapd"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Not under pytest's private (0700) tmp folder, which the unprivileged mail user could not enter;
    # short, because dovecot's socket paths must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="lp-imap-"))
    root.chmod(0o755)
    port = _free_port()
    uid, gid = _mail_user()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:::::\n")
    (root / "dovecot.conf").write_text(_config(root, port, uid, gid))
    mail = root / "mail" / USER
    mail.parent.mkdir()
    mailbox.Maildir(mail, create=True)
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, root)
        server = ImapServer(port=port, mail=mail, uid=uid, gid=gid)
        server.deliver("Votes", [])
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen, root: Path) -> None:
    """Wait until the server greets; readiness only, no assertion depends on timing."""
    for _ in range(300):
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot exited: {process.stdout.read().decode() if process.stdout else ''}{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)  # a pause that also notices an early exit
        except subprocess.TimeoutExpired:
            pass
    pytest.fail("dovecot did not start listening")


def test_tally_over_imap_counts_exactly_and_leaves_mail_unread(voted: tuple[Path, list], imap_server: ImapServer) -> None:
    root, mails = voted
    imap_server.deliver("Votes", mails)
    result = CliRunner(env={PASSWORD_VARIABLE: PASSWORD}).invoke(main, ["--site", str(root), "polls", "tally", imap_server.url("Votes")])
    assert result.exit_code == 0, result.output
    check_results(root)
    assert PASSWORD not in result.output and "@example" not in result.output
    client = imaplib.IMAP4("127.0.0.1", imap_server.port)
    client.login(USER, PASSWORD)
    client.select("Votes", readonly=True)
    status, found = client.search(None, "SEEN")
    client.logout()
    assert status == "OK" and found == [b""], "the tally must not mark readers' mail as read"


def test_replies_over_imap(voted: tuple[Path, list], imap_server: ImapServer) -> None:
    root, mails = voted
    imap_server.deliver("Votes", mails)
    result = CliRunner(env={PASSWORD_VARIABLE: PASSWORD}).invoke(
        main, ["--site", str(root), "replies", "--json", imap_server.url("Votes")]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(item["slug"], item["count"]) for item in data["lessons"]] == [("the-first-ninety-days", 1)]
    assert data["votes"] == 13


@pytest.mark.parametrize(
    ("password", "folder", "expected"),
    [
        ("", "Votes", f"no password: set the environment variable {PASSWORD_VARIABLE}"),
        ("wrong", "Votes", f"login failed for '{USER}': check the user name and {PASSWORD_VARIABLE}"),
        (PASSWORD, "Nope", "folder 'Nope' not found on the server"),
    ],
)
def test_imap_problems_are_clear_errors(imap_server: ImapServer, tmp_path: Path, password: str, folder: str, expected: str) -> None:
    root = example_site(tmp_path)
    env = {PASSWORD_VARIABLE: password} if password else {PASSWORD_VARIABLE: ""}
    result = CliRunner(env=env).invoke(main, ["--site", str(root), "polls", "tally", imap_server.url(folder)])
    assert result.exit_code == 1 and expected in result.output and "Traceback" not in result.output
    assert not (root / "data").exists()


def test_closed_port_is_a_clear_error() -> None:
    with pytest.raises(InboxFailed, match="cannot connect"):
        read_source(f"imap://{USER}@127.0.0.1:{_free_port()}/INBOX", {PASSWORD_VARIABLE: "x"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imap://reader@mail.example.org/INBOX", "plain imap:// would send the password unencrypted"),
        ("imaps://reader:hunter2@mail.example.org/INBOX", f"put no password in the URL: set {PASSWORD_VARIABLE} instead"),
        ("imaps://mail.example.org/INBOX", "an IMAP source looks like imaps://user@host/FOLDER"),
    ],
)
def test_bad_imap_urls(url: str, expected: str) -> None:
    with pytest.raises(InboxFailed, match=expected) as caught:
        parse_imap_url(url)
    assert "hunter2" not in caught.value.format_message()


def test_imaps_url_defaults() -> None:
    location = parse_imap_url("imaps://clara%40example.org@mail.example.org/Poll%20votes")
    assert (location.secure, location.user, location.port, location.folder) == (True, "clara@example.org", 993, "Poll votes")
    assert location.shown == "imaps://clara@example.org@mail.example.org:993/Poll votes"
