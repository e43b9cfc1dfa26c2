"""SMTP settings from the environment, connections with TLS, and one message's transaction."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ..errors import SendFailed, SourceError

URL_VARIABLE = "LESSONPRESS_SMTP_URL"
PASSWORD_VARIABLE = "LESSONPRESS_SMTP_PASSWORD"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT = 60.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect; the password never appears in a repr or a message."""

    host: str
    port: int
    implicit_tls: bool  # smtps://
    user: str = ""
    password: str = field(default="", repr=False)
    insecure: bool = False

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def needs_tls(self) -> bool:
        return not (self.loopback or self.insecure)

    def __str__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def settings_from_env(env: Mapping[str, str], *, insecure: bool = False) -> SmtpSettings:
    """Read `LESSONPRESS_SMTP_URL` and `LESSONPRESS_SMTP_PASSWORD`; raise `SendFailed` saying what to set."""
    url = env.get(URL_VARIABLE, "").strip()
    example = "smtp://user@mail.example.org:587 (STARTTLS) or smtps://user@mail.example.org:465"
    if not url:
        raise SendFailed([SourceError(URL_VARIABLE, 0, f"is not set: export {URL_VARIABLE}={example}, and the password in {PASSWORD_VARIABLE}")])
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port == -1 or parts.path not in ("", "/"):
        raise SendFailed([SourceError(URL_VARIABLE, 0, f"must look like {example}")])
    if parts.password is not None:
        raise SendFailed([SourceError(URL_VARIABLE, 0, f"must not hold the password: put it in {PASSWORD_VARIABLE} instead")])
    user = unquote(parts.username or "")
    password = env.get(PASSWORD_VARIABLE, "")
    if user and not password:
        raise SendFailed([SourceError(PASSWORD_VARIABLE, 0, f"is not set: {URL_VARIABLE} names user '{user}', export the password for it")])
    return SmtpSettings(
        host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme], implicit_tls=parts.scheme == "smtps",
        user=user, password=password, insecure=insecure,
    )


def connect(settings: SmtpSettings, timeout: float = TIMEOUT) -> smtplib.SMTP:
    """Open a session: TLS (implicit or STARTTLS) unless loopback or insecure, then log in when a user is set."""
    context = ssl.create_default_context()
    if settings.implicit_tls:
        session: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        session = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        session.ehlo()
        if not settings.implicit_tls and settings.needs_tls:
            if not session.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(f"{settings.host} does not offer STARTTLS: use smtps:// or, only on a network you trust, --insecure")
            session.starttls(context=context)
            session.ehlo()
        if settings.user:
            session.login(settings.user, settings.password)
    except BaseException:
        close(session)
        raise
    return session


def close(session: smtplib.SMTP | None) -> None:
    """Say QUIT if the relay still listens; a dead connection needs no goodbye."""
    if session is None:
        return
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


@dataclass(frozen=True)
class Outcome:
    """What became of one transaction: `sent`, `failed` (5xx), `retry` (4xx or lost before DATA) or `uncertain`."""

    state: str
    reply: str
    reconnect: bool = False  # the session is unusable (dropped, or 421)


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}".strip()


def _refused(session: smtplib.SMTP, code: int, text: bytes | str) -> Outcome:
    """Classify a refusal: 5xx is final, 4xx is worth another try, 421 also means the session is closing."""
    reply = _reply(code, text)
    if code == 421:
        return Outcome("retry", reply, reconnect=True)
    try:
        session.rset()
    except (smtplib.SMTPException, OSError):
        return Outcome("failed" if code >= 500 else "retry", reply, reconnect=True)
    return Outcome("failed" if code >= 500 else "retry", reply)


def transmit(session: smtplib.SMTP, sender: str, recipient: str, data: bytes, before_data: Callable[[], None]) -> Outcome:
    """Run one SMTP transaction; `before_data` runs (and records `sending`) once the relay could accept it."""
    try:
        code, text = session.mail(sender)
        if code != 250:
            return _refused(session, code, text)
        code, text = session.rcpt(recipient)
        if code not in (250, 251):
            return _refused(session, code, text)
    except (smtplib.SMTPException, OSError) as error:
        # Nothing can have been accepted before DATA, so trying again cannot make a second copy.
        return Outcome("retry", f"connection lost before the message was sent: {error}", reconnect=True)
    before_data()
    try:
        code, text = session.data(data)
    except smtplib.SMTPDataError as error:  # DATA itself was refused: the message never went
        return _refused(session, error.smtp_code, error.smtp_error)
    except (smtplib.SMTPException, OSError) as error:
        return Outcome("uncertain", f"connection lost while the message was being accepted: {error}", reconnect=True)
    if code == 250:
        return Outcome("sent", _reply(code, text))
    return _refused(session, code, text)


class RateLimiter:
    """Space messages at most `rate` a second across all connections."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's turn."""
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            turn = max(now, self._next)
            self._next = turn + self._interval
        if turn > now:
            self._sleep(turn - now)



class ThreadSessions:
    """One SMTP session per thread, kept open between messages (opening one costs far more than a message), for a server's few sends."""

    def __init__(self, settings: SmtpSettings, timeout: float = 30.0) -> None:
        self.settings = settings
        self._timeout = timeout
        self._local = threading.local()

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Send one message; return "" once the relay took it, else its reply or why it could not be reached."""
        while True:
            session: smtplib.SMTP | None = getattr(self._local, "session", None)
            reused = session is not None
            if session is None:
                try:
                    session = connect(self.settings, self._timeout)
                except (smtplib.SMTPException, OSError) as error:
                    return f"cannot reach {self.settings}: {error}"
                self._local.session = session
            outcome = transmit(session, sender, recipient, data, lambda: None)
            if outcome.reconnect:
                close(session)
                self._local.session = None
                # A relay closes a session left idle for minutes: a lost one that was reused gets one fresh try.
                if reused and outcome.state == "retry":
                    continue
            return "" if outcome.state == "sent" else outcome.reply
