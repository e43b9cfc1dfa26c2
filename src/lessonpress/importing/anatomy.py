"""Recognise the parts of a lesson in an issue's Markdown: recap, teaser, poll, questions, pull quotes, P.S., byline, bio, ©."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..content.lesson import POLL_MARKER

# Only short blocks can be a recap, a teaser, a byline or boilerplate: a long paragraph that starts
# "Last time I met a client…" is the lesson itself.
SHORT = 400
HEAD_BLOCKS = 5  # a greeting, a byline, a dateline and a recap sit in the first few blocks
# A teaser, a signature and a bio sit after the first third (a footer of any length may follow them).

GREETING = re.compile(r"^(?:good (?:morning|afternoon|evening|day)|hello|hi|hey|dear|greetings)\b[^.?\n]{0,40}[!,.]?$", re.IGNORECASE)
BYLINE = re.compile(r"^(?:(?:a\s+)?guest\s+(?:post|lesson|issue|column|letter)\s+)?by\s+([^,;|·\n]{2,60}?)(?:\s*[,;|·]\s*(.{1,80}))?$", re.IGNORECASE)
RECAP = re.compile(r"^(?:in (?:the|our|my) (?:last|previous) (?:lesson|issue|letter|edition|newsletter)|last time|previously)\b[\s,:—–-]*(?:in lesson \d+[\s,:—–-]*)?(.+)$", re.IGNORECASE | re.DOTALL)
TEASER = re.compile(r"^(?:next time|in (?:the|our|my) next (?:lesson|issue|letter|edition|newsletter)|coming up next)\b[\s,:—–-]*(.+)$", re.IGNORECASE | re.DOTALL)
POSTSCRIPT = re.compile(r"^(P\.?\s?P\.?\s?S\.?|P\.\s?S\.?|PS:|Ps\.)\s*:?\s*(.+)$", re.DOTALL)
JUST_REPLY = re.compile(r"\s*(?:reply by e-?mail to \S+|(?:just |simply )?(?:hit )?reply to this (?:e-?mail|message|letter)|just (?:hit )?reply)\b.*$", re.IGNORECASE)
COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright)(?:\s*(?:©|\(c\)))?\s*(\d{4}(?:\s*[-–]\s*\d{4})?)?[,.]?\s*(?:by\s+)?(.*?)[.,]?\s*(?:all rights reserved\.?)?$", re.IGNORECASE)
BIO_HEADING = re.compile(r"^#{1,6}\s*about (?:the (?:author|writer)|me|[A-Z][\w .'-]{1,40})\s*$", re.IGNORECASE)
BIO_LEAD = re.compile(r"^about (?:the (?:author|writer)|me)\s*[:.—–-]\s*(.+)$", re.IGNORECASE | re.DOTALL)
SIGN_OFF = re.compile(r"^(?:until next time|talk soon|cheers|best|warmly|warm regards|regards|all the best|see you next (?:time|week)|yours)\b[,!.]?(?:\s+[\w .'-]{1,40})?$", re.IGNORECASE)
WRITE_IN = re.compile(r"\b(?:add your own|something else|write[- ]in|your own (?:idea|topic|suggestion)|other\s*(?:\(|:|…|\.\.\.)|suggest (?:a|another|your own) topic|reply with (?:a|your own) topic)", re.IGNORECASE)
VOTE = re.compile(r"\b(?:vote|which of these|future (?:lesson|issue)|next lesson|should I (?:write|cover)|topic)", re.IGNORECASE)
VOTE_FOR = re.compile("^vote for [“\"'](.+)[”\"']$", re.IGNORECASE)  # a choice as lessonpress's own poll words it
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
QUESTION = re.compile(r"^(?:\*\*|__)?Q:(?:\*\*|__)?\s*(.+)$", re.DOTALL)
SET_OFF_QUOTE = re.compile(r"^(?:<<|&lt;&lt;|\\<\\<)\s*(.+?)\s*(?:>>|&gt;&gt;|\\>\\>)$", re.DOTALL)
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
DATELINE = (
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTHS}),?\s+(\d{{4}})\b", re.IGNORECASE),  # 25 February 2009
    re.compile(rf"\b({MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE),  # February 25, 2009
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
)
BOILERPLATE = (
    ("subscribe blurb", re.compile(r"^(?:subscribe\b|sign up\b|want (?:more|to get)\b|get (?:these|every|each|new) (?:lessons?|issues?|letters?|posts?)\b|(?:was this|did someone) forward|if you(?:'re|’re| are) not (?:yet )?(?:a )?subscri)|\bsubscribe (?:for free|now|here|today|to (?:this|the|our|my) (?:newsletter|list|letter))", re.IGNORECASE)),
    ("forward blurb", re.compile(r"^(?:forward|share)\b|\b(?:forward (?:this|it) to|share (?:this|it) with|know someone who)", re.IGNORECASE)),
    ("sponsor line", re.compile(r"^(?:sponsored by|(?:this|today’s|today's|this week’s|this week's) (?:issue|lesson|newsletter|letter|section) is (?:sponsored|brought to you) by|a word from (?:our|this week’s|this week's) sponsor|sponsor:|our sponsor)", re.IGNORECASE)),
    ("blog leftover", re.compile(r"^(?:no comments:?|\d+ comments?:?|posted by .{1,60}|labels?:|email this\s*blogthis|share to (?:twitter|facebook)|newer post|older post|subscribe to: post comments|leave a comment|read more)", re.IGNORECASE)),
    ("mail footer", re.compile(r"^(?:unsubscribe\b|update your (?:preferences|profile)|view (?:this )?(?:e-?mail )?(?:in (?:your )?browser|online)|read (?:it )?online|you (?:are )?receiv(?:e|ed|ing) this|manage (?:your )?subscription)", re.IGNORECASE)),
)


@dataclass(frozen=True)
class FoundPoll:
    question: str
    options: tuple[str, ...]
    write_in: bool


@dataclass(frozen=True)
class Anatomy:
    """An issue's body with the parts a lesson keeps apart taken out of it, and what was dropped."""

    body: str
    greeting: str = ""
    author: str = ""
    bio: str = ""
    copyright: str = ""
    recap: str = ""
    teaser: str = ""
    poll: FoundPoll | None = None
    reply_prompt: str = ""
    date: datetime | None = None
    questions: int = 0
    quotes: int = 0
    dropped: tuple[str, ...] = ()  # boilerplate taken out, by kind
    kept: tuple[str, ...] = ()  # recognisable parts left in the body on purpose, e.g. a second P.S.


def plain(block: str) -> str:
    """The text of a Markdown block as a reader sees it: links as their text, no emphasis markers or heading marks."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", block)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|(?<!\w)[*_](?!\s)|(?<!\s)[*_](?!\w))", "", text)
    text = re.sub(r"^#{1,6}\s+", "", text)
    return " ".join(text.replace("\\", "").split())


def _date(text: str) -> datetime | None:
    """A date written out in a dateline: '25 February 2009', 'February 25, 2009' or '2009-02-25'."""
    for index, pattern in enumerate(DATELINE):
        match = pattern.search(text)
        if match is None:
            continue
        parts = match.groups()
        if index == 2:
            year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
        else:
            day_text, month_text = (parts[0], parts[1]) if index == 0 else (parts[1], parts[0])
            year, month, day = int(parts[2]), MONTHS.split("|").index(month_text.lower()) + 1, int(day_text)
        try:
            return datetime(year, month, day)
        except ValueError:
            continue
    return None


def _sentence(text: str) -> str:
    """A one-line field from recognised text: spaces collapsed, a trailing colon dropped."""
    return " ".join(text.split()).rstrip(":").strip()


def _options(block: str) -> list[str] | None:
    """The items of a Markdown list block, as text; None when the block is not a list."""
    lines = block.split("\n")
    matches = [LIST_ITEM.match(line) for line in lines]
    if not all(matches):
        return None
    items = [plain(match.group(1)) for match in matches if match]
    return [vote.group(1) if (vote := VOTE_FOR.match(item)) else item for item in items]


class _Reader:
    """Walks an issue's blocks once, keeping each block or taking it out as a part."""

    def __init__(self, blocks: list[str], site_author: str) -> None:
        self.blocks = blocks
        self.site_author = site_author
        self.kept: list[str] = []
        self.parts: dict[str, object] = {}
        self.dropped: list[str] = []
        self.notes: list[str] = []
        self.questions = 0
        self.quotes = 0

    def run(self) -> Anatomy:
        index = 0
        while index < len(self.blocks):
            index = self.take(index)
        return Anatomy(
            body="\n\n".join(self.kept).strip() + "\n",
            questions=self.questions,
            quotes=self.quotes,
            dropped=tuple(self.dropped),
            kept=tuple(self.notes),
            **self.parts,  # type: ignore[arg-type]
        )

    def take(self, index: int) -> int:
        """Handle the block at `index`; return the index of the next block to read."""
        block = self.blocks[index]
        text = plain(block)
        head = len(self.kept) < HEAD_BLOCKS
        tail = index >= len(self.blocks) // 3
        short = len(text) <= SHORT
        if short and not block.startswith(">"):
            for label, pattern in BOILERPLATE:
                if pattern.search(text) and len(text) <= 250:
                    self.dropped.append(label)
                    return index + 1
        if head and short and not self.parts.get("greeting") and not self.kept and GREETING.match(text):
            self.parts["greeting"] = text
            return index + 1
        if head and short and "author" not in self.parts and (byline := BYLINE.match(text)):
            self.parts["author"] = byline.group(1).strip()
            return index + 1
        if head and "date" not in self.parts and len(text) <= 80 and (when := _date(text)) is not None:
            self.parts["date"] = when
            return index + 1
        if head and short and "recap" not in self.parts and (recap := RECAP.match(text)):
            self.parts["recap"] = _sentence(recap.group(1))
            return index + 1
        poll_end = self.poll(index)
        if poll_end:
            self.kept.append(POLL_MARKER)
            return poll_end
        if short and (postscript := POSTSCRIPT.match(text)):
            if "reply_prompt" in self.parts:
                self.notes.append(f"a second P.S. ({postscript.group(1).rstrip(':')})")
                self.kept.append(block)
            else:
                self.parts["reply_prompt"] = _sentence(JUST_REPLY.sub("", postscript.group(2))) or _sentence(postscript.group(2))
            return index + 1
        if tail and short and "teaser" not in self.parts and (teaser := TEASER.match(text)):
            self.parts["teaser"] = _sentence(teaser.group(1))
            return index + 1
        if short and (holder := COPYRIGHT.match(text)) and holder.group(2):
            self.parts["copyright"] = _sentence(holder.group(2))
            return index + 1
        if tail and (bio_end := self.bio(index)):
            return bio_end
        if tail and len(text) <= 160 and block.count("\n") < 4 and (SIGN_OFF.match(text) or SIGN_OFF.match(plain(block.split("\n")[0]))):
            self.dropped.append("sign-off (the theme signs every lesson)")
            return index + 1
        if question := QUESTION.match(block):
            self.questions += 1
            self.kept.append("Q: " + question.group(1).strip())
            return index + 1
        if quote := SET_OFF_QUOTE.match(block):
            self.quotes += 1
            self.kept.append("> " + " ".join(quote.group(1).split()))
            return index + 1
        if block.startswith(">"):
            self.quotes += 1
        self.kept.append(block)
        return index + 1

    def poll(self, index: int) -> int:
        """Take a topic poll starting at `index` (a question, its choices, a write-in line); return the next index, or 0."""
        question = plain(self.blocks[index])
        if not question.endswith("?") or len(question) > 200 or index + 1 >= len(self.blocks) or QUESTION.match(self.blocks[index]):
            return 0
        end = index + 1
        between = plain(self.blocks[end])
        if _options(self.blocks[end]) is None and len(between) <= 120 and not between.endswith("?") and end + 1 < len(self.blocks):
            end += 1  # a line on how to vote, between the question and its choices
        options = _options(self.blocks[end])
        if options is None:
            return 0
        end += 1
        write_in = bool(options) and WRITE_IN.search(options[-1]) is not None
        if write_in:
            options = options[:-1]
        elif end < len(self.blocks) and len(plain(self.blocks[end])) <= 200 and WRITE_IN.search(plain(self.blocks[end])):
            write_in, end = True, end + 1
        if not (write_in or VOTE.search(question)) or not 2 <= len(options) <= 6 or not all(options):
            return 0
        self.parts["poll"] = FoundPoll(_sentence(question), tuple(_sentence(option) for option in options), write_in)
        return end

    def bio(self, index: int) -> int:
        """Take an author's bio at `index`: an 'About the author' heading and its paragraph, or a paragraph led so; return the next index, or 0."""
        block = self.blocks[index]
        if BIO_HEADING.match(block) and index + 1 < len(self.blocks):
            self.parts["bio"] = _sentence(plain(self.blocks[index + 1]))
            return index + 2
        if lead := BIO_LEAD.match(plain(block)):
            self.parts["bio"] = _sentence(lead.group(1))
            return index + 1
        author = str(self.parts.get("author") or "")
        text = plain(block)
        if author and author != self.site_author and text.startswith(f"{author} is ") and len(text) <= 600:
            self.parts["bio"] = _sentence(text)
            return index + 1
        return 0


def blocks_of(markdown: str) -> list[str]:
    """Split Markdown into blocks at blank lines, keeping a fenced code block whole."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def recognise(markdown: str, title: str, site_author: str = "") -> Anatomy:
    """Take a lesson's parts out of an issue's Markdown; a first heading that repeats the title goes too."""
    blocks = blocks_of(markdown)
    if blocks and blocks[0].startswith("#") and plain(blocks[0]).casefold() == " ".join(title.split()).casefold():
        blocks = blocks[1:]
    return _Reader(blocks, site_author).run()
