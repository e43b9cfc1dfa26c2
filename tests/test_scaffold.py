"""`lessonpress init` and `lessonpress new`, run through the real CLI."""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path
from urllib.request import urlopen

from click.testing import CliRunner

from lessonpress.cli import main
from lessonpress.serve.server import DevServer


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_init_new_serve_build_works_for_a_new_user(tmp_path: Path) -> None:
    site = tmp_path / "my-letter"
    code, out, _ = run("init", str(site))
    assert code == 0 and "lessonpress serve" in out
    assert (site / "lessonpress.toml").is_file()
    assert (site / "lessons/first-course/01-welcome.md").is_file()
    assert (site / "themes/default").is_dir()
    assert 'title = "My Letter"' in (site / "lessonpress.toml").read_text(encoding="utf-8")

    code, out, _ = run("-C", str(site), "new", "The Second Step", "--series", "first-course")
    assert code == 0 and out == "lessons/first-course/02-the-second-step.md\n"
    text = (site / "lessons/first-course/02-the-second-step.md").read_text(encoding="utf-8")
    assert text.startswith(f'---\ntitle: "The Second Step"\ndate: {date.today().isoformat()}\nsummary: ""')
    assert "# poll:" in text and "# reply_prompt:" in text

    server = DevServer(site, port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert not server.live.snapshot.errors
        with urlopen(server.url + "first-course/the-second-step/", timeout=10) as response:
            page = response.read().decode()
        assert "The Second Step" in page and re.search(r'class="badge">Draft<', page)
        with urlopen(server.url + "first-course/welcome/", timeout=10) as response:
            assert "One idea per lesson" in response.read().decode()
    finally:
        server.stop()
        thread.join(timeout=10)

    code, out, _ = run("-C", str(site), "build")
    assert code == 0 and re.search(r"Built 1 lesson in 1 series", out)
    assert (site / "output/first-course/welcome/index.html").is_file()
    assert not (site / "output/first-course/the-second-step").exists()  # still a draft
    assert run("-C", str(site), "check")[0] == 0


def test_init_never_overwrites(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "lessonpress.toml").write_text("# mine\n", encoding="utf-8")
    code, _, err = run("init", str(site))
    assert code == 1
    assert "lessonpress.toml: already exists; lessonpress init never overwrites" in err
    assert (site / "lessonpress.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (site / "lessons").exists()


def test_new_numbers_after_the_highest_and_keeps_the_width(tmp_path: Path) -> None:
    series = tmp_path / "lessons/habits"
    series.mkdir(parents=True)
    (series / "001-start.md").write_text("x", encoding="utf-8")
    (series / "009-later.md").write_text("x", encoding="utf-8")
    (series / "_index.md").write_text("x", encoding="utf-8")
    code, out, _ = run("-C", str(tmp_path), "new", "Café’s  Étude: Part 2!")
    assert code == 0 and out == "lessons/habits/010-cafes-etude-part-2.md\n"
    assert 'title: "Café’s Étude: Part 2!"' in (series / "010-cafes-etude-part-2.md").read_text(encoding="utf-8")


def test_new_refuses_to_overwrite_or_guess(tmp_path: Path) -> None:
    for name in ("retention", "relationships"):
        (tmp_path / "lessons" / name).mkdir(parents=True)
    (tmp_path / "lessons/retention/01-why.md").write_text("mine", encoding="utf-8")
    code, _, err = run("-C", str(tmp_path), "new", "Why", "--series", "retention")
    assert code == 1 and "a lesson 'why' already exists in this series" in err and "nothing was written" in err
    assert (tmp_path / "lessons/retention/01-why.md").read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "lessons/retention/02-why.md").exists()

    code, _, err = run("-C", str(tmp_path), "new", "Next")
    assert code == 1 and "say which series with --series (existing: relationships, retention)" in err
    code, _, err = run("-C", str(tmp_path), "new", "Next", "--series", "retension")
    assert code == 1 and "lessons/retension: series not found: did you mean 'retention'?" in err
    assert "Traceback" not in err
    assert sorted(path.name for path in (tmp_path / "lessons/retention").iterdir()) == ["01-why.md"]
