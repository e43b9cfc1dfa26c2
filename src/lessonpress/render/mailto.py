"""`mailto:` links for votes and replies, encoded per RFC 6068."""

from __future__ import annotations

from urllib.parse import quote

from ..content.config import SiteConfig
from ..content.lesson import Poll
from ..site.model import Issue
from ..translations import N_

WRITE_IN = "write-in"
# English defaults; the theme passes the site language's words (catalog entries "Vote" and this prompt).
VOTE_LABEL = N_("Vote")
WRITE_IN_PROMPT = N_("My suggestion for a future lesson: ")


def mailto(address: str, subject: str, body: str = "") -> str:
    """Return a mailto URL; subject and body percent-encoded as UTF-8, spaces as %20."""
    url = f"mailto:{quote(address, safe='@+')}?subject={quote(subject, safe='')}"
    if body:
        url += f"&body={quote(body, safe='')}"
    return url


def reply_address(config: SiteConfig, issue: Issue) -> str:
    """The address replies to this lesson go to; `{slug}` in `[email] reply_to` becomes the lesson's slug."""
    template = config.email.reply_to or config.author.email
    return template.replace("{slug}", issue.lesson.slug)


def poll_address(config: SiteConfig, issue: Issue) -> str:
    return config.polls.address.replace("{slug}", issue.lesson.slug) if config.polls.address else reply_address(config, issue)


def vote_subject(poll: Poll, choice: int, label: str = VOTE_LABEL) -> str:
    """The subject that identifies one choice (1-based) of a poll, e.g. `Vote: retention-why #2 Onboarding`.

    The label before the colon is the reader's language ("Abstimmung", "Vote"…); what follows it,
    the poll id and `#<choice>`, is the machine part the tally matches, the same in every language.
    """
    return f"{label}: {poll.id} #{choice} {poll.options[choice - 1]}"


def write_in_subject(poll: Poll, label: str = VOTE_LABEL) -> str:
    return f"{label}: {poll.id} {WRITE_IN}"


def vote_link(config: SiteConfig, issue: Issue, choice: int, label: str = VOTE_LABEL) -> str:
    assert issue.lesson.poll is not None
    return mailto(poll_address(config, issue), vote_subject(issue.lesson.poll, choice, label))


def write_in_link(config: SiteConfig, issue: Issue, label: str = VOTE_LABEL, prompt: str = WRITE_IN_PROMPT) -> str:
    assert issue.lesson.poll is not None
    return mailto(poll_address(config, issue), write_in_subject(issue.lesson.poll, label), prompt)


def reply_subject(issue: Issue) -> str:
    return f"Re: {issue.lesson.title}"


def reply_link(config: SiteConfig, issue: Issue) -> str:
    return mailto(reply_address(config, issue), reply_subject(issue))


def endpoint_url(config: SiteConfig, poll: Poll, choice: int | str) -> str:
    """The `[polls] endpoint` URL for one choice (the web page posts to it)."""
    return config.polls.endpoint.replace("{poll}", quote(poll.id, safe="")).replace("{choice}", quote(str(choice), safe=""))
