"""`load_site`: the one way every command turns a site folder into a `Site`.

read the config → read the sources → read poll results → plan the topic polls → assemble.
Each stage runs once, in this order, for `build`, `check`, `email`, `send`, `serve`, `topics`,
`polls tally` and `replies` alike, so no command can see a different site than another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..content.cache import CacheStats
from ..content.config import SiteConfig, load_config
from ..content.read import Sources, read_sources
from ..errors import SiteFailed, SourceError
from .assemble import LinkResolver, assemble
from .backlog import Backlog, read_backlog
from .model import BuildOptions, PollResults, Site
from .polls import read_poll_results
from .topic_plan import TopicPlan, plan_topics


@dataclass(frozen=True)
class LoadedSite:
    """A site with what it was made from: the topic plan, poll results, and every problem found."""

    site: Site
    plan: TopicPlan
    results: Mapping[str, PollResults]
    errors: tuple[SourceError, ...]
    warnings: tuple[SourceError, ...]
    parsed: CacheStats = CacheStats(hits=0, misses=0, rejected=0)  # what the parse cache did: misses were parsed

    def or_fail(self) -> LoadedSite:
        """Return this site, or raise `SiteFailed` with every error found."""
        if self.errors:
            raise SiteFailed(self.errors)
        return self


def load_site(
    root: Path,
    options: BuildOptions,
    *,
    read: Callable[[SiteConfig], Sources] = read_sources,
    backlog: Callable[[SiteConfig], tuple[Backlog, list[SourceError]]] = read_backlog,
    links: LinkResolver | None = None,
) -> LoadedSite:
    """Read and assemble the site in `root`, collecting every problem; `read`, `backlog` and `links` let the dev server reuse work."""
    config, config_warnings = load_config(root)
    if options.offline:
        config = replace(config, offline=True)
    sources = read(config)
    results, results_errors = read_poll_results(config)
    plan = plan_topics(config, sources.lessons, results, backlog)
    site, assemble_errors = assemble(config, list(plan.lessons), list(sources.series), sources.assets, options, results, plan.asked(), links)
    site = replace(site, topics=plan.board(site.issues))
    errors = (*sources.errors, *results_errors, *plan.errors, *assemble_errors)
    return LoadedSite(site, plan, results, tuple(errors), (*config_warnings, *sources.warnings), sources.cache)



def answerable_site(root: Path, now: datetime) -> LoadedSite:
    """Every lesson a reader may answer, drafts and scheduled ones included, with the polls the topic plan gives them.

    `polls tally` and `replies` read mail with this one site, so they always agree on which poll a
    vote belongs to. A broken lesson is left out rather than stopping the reading of a mailbox; a
    broken backlog stops it, because the automatic polls it plans could not be recognised.
    """
    loaded = load_site(root, BuildOptions(now=now, include_drafts=True, include_future=True))
    if loaded.plan.errors:
        raise SiteFailed(loaded.plan.errors)
    return loaded
