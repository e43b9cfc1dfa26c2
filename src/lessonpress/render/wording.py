"""The theme's sentences that hold numbers, dates and lists, in the site's language (gettext plus CLDR)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.support import Translations

from ..content.typography import QuoteStyle, quote
from ..site.model import WRITE_IN_ROW, Issue, OptionResult, PollResults
from .mailto import VOTE_LABEL, WRITE_IN_PROMPT


@dataclass(frozen=True)
class Wording:
    """One site's language: its catalog, its CLDR locale and its quotes."""

    translations: Translations
    locale: Locale
    style: QuoteStyle

    @property
    def vote_label(self) -> str:
        """The human word before the colon of a vote subject; the tally reads only what follows the colon."""
        return self.translations.gettext(VOTE_LABEL)

    @property
    def write_in_prompt(self) -> str:
        return self.translations.gettext(WRITE_IN_PROMPT)

    def long_date(self, moment: date) -> str:
        """Write a date out in the locale's long form: 'Friday, 25 March 2005', 'Freitag, 25. März 2005'."""
        return format_date(moment, format="full", locale=self.locale)

    def lesson_of(self, issue: Issue) -> str:
        """'Lesson 2 of 5'."""
        return self.translations.gettext("Lesson %(number)s of %(total)s") % {"number": issue.number, "total": issue.count}

    def votes(self, count: int) -> str:
        """'1 vote', '4 votes', with the language's plural forms."""
        return self.translations.ngettext("%(count)s vote", "%(count)s votes", count) % {"count": count}

    def readers_answered(self, count: int) -> str:
        return self.translations.ngettext("%(count)s reader answered.", "%(count)s readers answered.", count) % {"count": count}

    def option_text(self, option: OptionResult) -> str:
        """An option of the results as the reader sees it; the row of readers' own topics in the site's language."""
        return self.translations.gettext(WRITE_IN_ROW) if option.choice == 0 else option.text

    def poll_headline(self, results: PollResults) -> str:
        """Say what won, e.g. 'You voted: “Measuring time to first value” came first'."""
        gettext = self.translations.gettext
        winners = results.winners
        if not winners:
            return gettext("You voted")
        names = format_list([quote(option.text, self.style) for option in winners], locale=self.locale)
        if len(winners) > 1:
            return gettext("You voted: %(options)s tied for first place") % {"options": names}
        return gettext("You voted: %(option)s came first") % {"option": names}
