"""The words `lessonpress init --language` writes into a new site, in the languages the theme ships."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Starter:
    """A new site's first words: config defaults, the first series and its welcome lesson."""

    description: str
    greeting: str
    reply_prompt: str
    author: str
    series_title: str
    series_description: str
    series_intro: str
    lesson_title: str
    lesson_slug: str
    lesson_summary: str
    lesson_teaser: str
    tag: str
    lesson_body: str


ENGLISH = Starter(
    description="Short lessons, one at a time.",
    greeting="Hello!",
    reply_prompt="What is one thing in this lesson you will try this week?",
    author="Your Name",
    series_title="My First Course",
    series_description="What this series teaches, in one sentence.",
    series_intro="A few lines introducing the series. They appear on the series page.",
    lesson_title="Welcome",
    lesson_slug="welcome",
    lesson_summary="what this course covers and how to get the most from it",
    lesson_teaser="what this course covers, one short lesson at a time.",
    tag="welcome",
    lesson_body="""\
Welcome to the first lesson. Write in Markdown: headings, lists, *emphasis* and links.

## One idea per lesson

Keep each lesson to one idea the reader can try this week.

Q: What would you like to be able to do by the end of this course?
""",
)

STARTERS = {
    "en": ENGLISH,
    "de": Starter(
        description="Kurze Lektionen, eine nach der anderen.",
        greeting="Guten Tag!",
        reply_prompt="Was aus dieser Lektion probieren Sie diese Woche aus?",
        author="Ihr Name",
        series_title="Mein erster Kurs",
        series_description="Was diese Reihe vermittelt, in einem Satz.",
        series_intro="Ein paar Zeilen zur Einführung in die Reihe. Sie stehen auf der Seite der Reihe.",
        lesson_title="Willkommen",
        lesson_slug="willkommen",
        lesson_summary="worum es in diesem Kurs geht und wie Sie am meisten davon haben",
        lesson_teaser="worum es in diesem Kurs geht, eine kurze Lektion nach der anderen.",
        tag="willkommen",
        lesson_body="""\
Willkommen zur ersten Lektion. Schreiben Sie in Markdown: Überschriften, Listen, *Betonung* und Links.

## Ein Gedanke pro Lektion

Jede Lektion bringt einen Gedanken, den die Leserinnen und Leser noch diese Woche ausprobieren können.

Q: Was möchten Sie am Ende dieses Kurses können?
""",
    ),
    "fr": Starter(
        description="De courtes leçons, une à la fois.",
        greeting="Bonjour !",
        reply_prompt="Quelle idée de cette leçon allez-vous essayer cette semaine ?",
        author="Votre nom",
        series_title="Mon premier cours",
        series_description="Ce que cette série enseigne, en une phrase.",
        series_intro="Quelques lignes pour présenter la série. Elles figurent sur la page de la série.",
        lesson_title="Bienvenue",
        lesson_slug="bienvenue",
        lesson_summary="ce que couvre ce cours et comment en tirer le meilleur parti",
        lesson_teaser="ce que couvre ce cours, une courte leçon à la fois.",
        tag="bienvenue",
        lesson_body="""\
Bienvenue dans la première leçon. Écrivez en Markdown : titres, listes, *mise en valeur* et liens.

## Une idée par leçon

Chaque leçon tient en une idée que le lecteur peut essayer dès cette semaine.

Q: Que voudriez-vous savoir faire à la fin de ce cours ?
""",
    ),
    "es": Starter(
        description="Lecciones breves, una cada vez.",
        greeting="¡Hola!",
        reply_prompt="¿Qué idea de esta lección va a probar esta semana?",
        author="Su nombre",
        series_title="Mi primer curso",
        series_description="Lo que enseña esta serie, en una frase.",
        series_intro="Unas líneas para presentar la serie. Aparecen en la página de la serie.",
        lesson_title="Bienvenida",
        lesson_slug="bienvenida",
        lesson_summary="de qué trata este curso y cómo sacarle el máximo partido",
        lesson_teaser="de qué trata este curso, una lección breve cada vez.",
        tag="bienvenida",
        lesson_body="""\
Bienvenido a la primera lección. Escriba en Markdown: títulos, listas, *énfasis* y enlaces.

## Una idea por lección

Cada lección se centra en una idea que el lector pueda probar esta misma semana.

Q: ¿Qué le gustaría saber hacer al final de este curso?
""",
    ),
}


def starter(language: str) -> Starter:
    """The starter words for a language tag (`de`, `de-AT`); English for a language without its own."""
    return STARTERS.get(language.replace("_", "-").split("-")[0].lower(), ENGLISH)
