"""Reading what a client sent: the query, and a small form body in either encoding a browser or a mail provider uses."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from ..translations import N_

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FIELDS = 20


class RequestProblem(Exception):
    """A request the endpoint refuses: its HTTP status, a short title and what the client should do.

    Title and message are catalog entries (English, marked with `N_`), shown translated in the
    site's language; `params` fill the message's %(name)s places; `retry_minutes` adds "try again in N minutes".
    """

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        headers: tuple[tuple[str, str], ...] = (),
        *,
        params: dict[str, object] | None = None,
        retry_minutes: int = 0,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.headers = headers
        self.params = params or {}
        self.retry_minutes = retry_minutes


@dataclass(frozen=True)
class Fields:
    """Form or query fields; each name may be given once."""

    values: dict[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def _fields(pairs: dict[str, list[str]]) -> Fields:
    if any(len(values) > 1 for values in pairs.values()):
        raise RequestProblem(400, N_("Bad request"), N_("A field was given more than once."))
    return Fields({name: values[0] for name, values in pairs.items()})


def _urlencoded(text: str) -> Fields:
    try:
        return _fields(parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"))
    except (ValueError, UnicodeDecodeError):
        raise RequestProblem(400, N_("Bad request"), N_("The form could not be read.")) from None


def query_fields(query: str) -> Fields:
    """The fields of a URL's query; raise RequestProblem when it cannot be read."""
    return _urlencoded(query)


def _multipart(content_type: str, body: bytes) -> Fields:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise RequestProblem(400, N_("Bad request"), N_("The form could not be read."))
    pairs: dict[str, list[str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes) or len(pairs) >= MAX_FIELDS:
            raise RequestProblem(400, N_("Bad request"), N_("The form could not be read."))
        try:
            pairs.setdefault(name, []).append(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise RequestProblem(400, N_("Bad request"), N_("The form is not UTF-8.")) from None
    return _fields(pairs)


def form_fields(environ: dict[str, object], limit: int) -> Fields:
    """Read a POST's form body, at most `limit` bytes, in either form encoding; raise RequestProblem (413, 415, 400) otherwise."""
    content_type = str(environ.get("CONTENT_TYPE", "")).strip()
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in FORM_TYPES:
        raise RequestProblem(415, N_("Unsupported content type"), N_("Send the form as application/x-www-form-urlencoded or multipart/form-data."))
    try:
        length = int(str(environ.get("CONTENT_LENGTH") or "0"))
    except ValueError:
        raise RequestProblem(400, N_("Bad request"), N_("The Content-Length header is not a number.")) from None
    if length > limit or length < 0:
        raise RequestProblem(413, N_("Request too large"), N_("A form here is at most %(limit)s bytes."), params={"limit": limit})
    stream = environ["wsgi.input"]
    assert hasattr(stream, "read")
    body = stream.read(length) if length else b""
    if not isinstance(body, bytes):
        raise RequestProblem(400, N_("Bad request"), N_("The form could not be read."))
    if kind == "multipart/form-data":
        return _multipart(content_type, body)
    try:
        return _urlencoded(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestProblem(400, N_("Bad request"), N_("The form is not UTF-8.")) from None

