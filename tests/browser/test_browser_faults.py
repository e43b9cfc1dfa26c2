"""The crawl must catch a broken link, an image without `alt` and a page too wide for a phone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Each fault goes into its own lesson of one series, so one crawl of that series proves all three
# and none hides another; the whole-site crawl uses the same code, so it fails the same way.
SCOPE = "retention/"
BROKEN_LINK = ("retention/03-reading-churn-signals.md", "\nKeep [the churn checklist](/retention/churn-checklist/) to hand.\n")
IMAGE_WITHOUT_ALT = ("retention/04-complaints-are-a-second-chance.md", '\n<img src="/retention/complaint-flow.svg" width="320" height="120">\n')
TOO_WIDE = ("retention/05-the-account-review.md", '\n<div style="width: 720px">The account review scorecard, one column per quarter.</div>\n')
FLOW_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120"><rect width="320" height="120" fill="#f3efe6"/></svg>\n'


@pytest.fixture(scope="module")
def faulty_crawl(new_site, build_and_serve, crawl_site):
    """Crawl a copy of the example site with the three faults planted in three lessons."""
    lessons = new_site() / "lessons"
    (lessons / "retention" / "complaint-flow.svg").write_text(FLOW_SVG, encoding="utf-8")
    for name, addition in (BROKEN_LINK, IMAGE_WITHOUT_ALT, TOO_WIDE):
        lesson = lessons / name
        lesson.write_text(lesson.read_text(encoding="utf-8") + addition, encoding="utf-8")
    return crawl_site(build_and_serve(lessons.parent), SCOPE)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("link_problems", "/retention/reading-churn-signals/ -> /retention/churn-checklist/: HTTP 404"),
        ("axe_problems", "/retention/complaints-are-a-second-chance/: critical image-alt"),
        ("overflow_problems", "/retention/the-account-review/: "),
    ],
    ids=["broken-link", "image-without-alt", "too-wide-on-a-phone"],
)
def test_crawl_reports_the_planted_fault(faulty_crawl, check: str, expected: str) -> None:
    problems = getattr(faulty_crawl, check)()
    assert any(problem.startswith(expected) for problem in problems), "\n".join(problems)
