"""Generate a seeded corpus of lessonpress-specific lessons (polls, lesson links, series intros); comparisons with other tools use the shared anchor corpus (anchors.py)."""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

SERIES = (
    ("retention", "Keeping Customers"),
    ("relationships", "Business Relationships"),
    ("onboarding", "The First Ninety Days"),
    ("renewals", "Renewal Season"),
    ("pricing", "Pricing Without Fear"),
    ("service", "Service That Sells"),
    ("referrals", "Referrals and Reputation"),
    ("leadership", "Leading a Customer Team"),
)
TAGS = (
    "churn", "onboarding", "renewals", "pricing", "referrals", "complaints", "account reviews",
    "customer success", "trust", "partners", "advisory boards", "support", "sales handover",
    "feedback", "loyalty", "upselling", "contracts", "surveys", "metrics", "hiring", "coaching",
)
WORDS = (
    "customer account renewal promise result team meeting quarter budget contract champion "
    "partner review signal complaint question habit milestone value report invoice calendar "
    "manager office client project handover decision reason story number week month year "
    "price discount proposal colleague founder buyer user survey answer reply letter note"
).split()
VERBS = "keeps loses finds builds asks answers changes measures protects explains remembers notices".split()
ADJECTIVES = "quiet small honest early late simple careful busy loyal new real whole".split()
LINKERS = ("— and that matters", "... which is the point", "-- not the other way round", "(in their words)", "for now")
START = datetime(2016, 1, 4, 7, 30)


@dataclass(frozen=True)
class GeneratedLesson:
    """One generated lesson, independent of any tool's file format."""

    series: str
    number: int
    slug: str
    title: str
    date: datetime
    summary: str
    tags: tuple[str, ...]
    poll: tuple[str, ...]  # options; empty when the lesson has no poll
    body: str  # Markdown; links to other lessons are written `](NNN-slug.md)`


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 11))]
    words.insert(rng.randint(1, len(words) - 1), rng.choice(VERBS))
    words.insert(0, "the " + rng.choice(ADJECTIVES))
    text = " ".join(words)
    if rng.random() < 0.3:
        text += " " + rng.choice(LINKERS)
    if rng.random() < 0.2:
        text = f'"{text}", she said'
    if rng.random() < 0.15:
        text += " — it's the customer's call"
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    parts = [_sentence(rng) for _ in range(sentences)]
    if rng.random() < 0.5:
        index = rng.randrange(len(parts))
        parts[index] = parts[index][:-1] + f", as *{rng.choice(WORDS)}* shows **every time**."
    if rng.random() < 0.4:
        parts.append(f"See [the {rng.choice(WORDS)} checklist](https://example.org/{rng.choice(WORDS)}/{rng.randint(1, 99)}).")
    return " ".join(parts)


def _title(rng: random.Random) -> str:
    return f"The {rng.choice(ADJECTIVES).title()} {rng.choice(WORDS).title()} {rng.choice(('Rule', 'Habit', 'Question', 'Review', 'Talk', 'Test'))}"


def _body(rng: random.Random, previous: str | None) -> str:
    blocks = [_paragraph(rng, 4)]
    if previous:
        blocks.append(f"Last time, in [the previous lesson]({previous}), we looked at {rng.choice(WORDS)}s. {_sentence(rng)}")
    for section in range(rng.randint(3, 4)):
        blocks.append(f"## {_title(rng)}")
        blocks.append(_paragraph(rng, rng.randint(4, 6)))
        kind = section % 3
        if kind == 0:
            blocks.append("\n".join(f"{i}. **{rng.choice(WORDS).title()}.** {_sentence(rng)}" for i in range(1, rng.randint(4, 6))))
        elif kind == 1:
            blocks.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 5))))
        else:
            blocks.append(f"> {_sentence(rng)} {_sentence(rng)}")
            blocks.append(_paragraph(rng, 3))
        blocks.extend(f"Q: {_sentence(rng)[:-1]}?" for _ in range(rng.randint(1, 3)))
        blocks.append(_paragraph(rng, rng.randint(3, 5)))
    blocks.append(f"P.S. {_sentence(rng)} Just reply to this message.")
    return "\n\n".join(blocks) + "\n"


def generate(count: int, seed: int = 7) -> list[GeneratedLesson]:
    """Return `count` lessons spread round-robin over the series, the same for the same seed."""
    rng = random.Random(seed)
    lessons: list[GeneratedLesson] = []
    last_file: dict[str, str] = {}
    for index in range(count):
        series = SERIES[index % len(SERIES)][0]
        number = index // len(SERIES) + 1
        title = f"{_title(rng)} {number}"
        slug = f"{title.lower().replace(' ', '-')}"
        tags = tuple(sorted(rng.sample(TAGS, rng.randint(1, 3))))
        poll = tuple(f"{_title(rng)}" for _ in range(rng.randint(3, 5))) if number % 4 == 0 else ()
        body = _body(rng, last_file.get(series))
        date = START + timedelta(days=7 * (number - 1) + index % len(SERIES) // 2)
        lessons.append(GeneratedLesson(series, number, slug, title, date, _sentence(rng), tags, poll, body))
        last_file[series] = f"{number:04d}-{slug}.md"
    return lessons


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_lessonpress(lessons: list[GeneratedLesson], root: Path) -> None:
    """Write a lessonpress site (lessonpress.toml, lessons/<series>/NNNN-slug.md)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lessonpress.toml").write_text(
        '[site]\ntitle = "Bench Letter"\nurl = "https://bench.example.org"\ndescription = "A generated archive."\n'
        'timezone = "Europe/London"\n\n[author]\nname = "Bench Author"\nemail = "author@bench.example.org"\n\n'
        '[email]\nfrom = "Bench Letter <letters@bench.example.org>"\nreply_to = "lessons+{slug}@bench.example.org"\n'
        'unsubscribe_url = "https://bench.example.org/unsubscribe"\n',
        encoding="utf-8",
    )
    for slug, title in SERIES:
        folder = root / "lessons" / slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_index.md").write_text(f"---\ntitle: {_quote(title)}\ndescription: \"Lessons on {slug}.\"\ncadence: 7d\n---\nWelcome to *{title}*.\n", encoding="utf-8")
    for lesson in lessons:
        front = [
            "---", f"title: {_quote(lesson.title)}", f"date: {lesson.date.isoformat()}", f"summary: {_quote(lesson.summary)}",
            f"tags: [{', '.join(lesson.tags)}]",
        ]
        if lesson.poll:
            front += ["poll:", "  options:"] + [f"    - {_quote(option)}" for option in lesson.poll]
        text = "\n".join([*front, "---", lesson.body])
        (root / "lessons" / lesson.series / f"{lesson.number:04d}-{lesson.slug}.md").write_text(text, encoding="utf-8")


def main() -> None:
    """Write a generated lessonpress site."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path, help="folder to create (replaced if it exists)")
    parser.add_argument("--lessons", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shutil.rmtree(args.target, ignore_errors=True)
    write_lessonpress(generate(args.lessons, args.seed), args.target)
    print(f"wrote {args.lessons} lessons to {args.target}")


if __name__ == "__main__":
    main()
