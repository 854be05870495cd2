"""Specification of `levelbelt report FILE --html OUT`: one self-contained, private HTML page
(inline CSS and SVG, no scripts, nothing fetched), with every text from the file escaped,
never replacing OUT without --force, and the same damage rules as review."""

from __future__ import annotations

import re
import shutil
import stat
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from review_helpers import cut_inside_line, flip_byte, line_numbers, record
from session_helpers import META

from levelbelt.cli import main
from levelbelt.report_html import write_report
from levelbelt.session import SessionWriter, read_session
from levelbelt.session.records import decode_line, encode_line


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions of one athlete with a weak left hip; the second has a trend."""
    out = tmp_path_factory.mktemp("sessions")
    for day in (1, 2):
        record(out, "ana", "left", seed=10 + day, created=datetime(2025, 5, day, 18, 0))
    return out


def first(folder: Path) -> Path:
    return folder / "20250501-180000-ana-simulated-belt.lbs"


def second(folder: Path) -> Path:
    return folder / "20250502-180000-ana-simulated-belt.lbs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


class Tags(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    t = Tags()
    t.feed(html)
    t.close()
    return t


def test_the_page_is_self_contained_private_and_has_every_part(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ana.html"
    code, stdout, err = run(capsys, str(second(folder)), "--html", str(out))
    assert code == 0 and stdout == f"{out}\n" and err == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "img" not in names and "link" not in names
    assert "iframe" not in names and "object" not in names
    for _, attrs in page.tags:  # nothing loaded from anywhere, no inline handlers
        assert "src" not in attrs and "href" not in attrs
        assert not any(k.startswith("on") for k in attrs)
    assert "url(" not in html and "@import" not in html
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv") ==
           "Content-Security-Policy"]
    assert csp and csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'"
    text = " ".join(page.text)
    assert "not a medical device" in text
    assert "LEFT flagged, more than 15% below the right side" in text
    holds = re.findall(r"<figure><svg[^>]*><title>Hold \d+: ", html)
    assert len(holds) == 8
    assert html.count('class="threshold"') == 2 * 8 + 1  # +-threshold per hold, LSI line
    assert "+5°" in html and "-5°" in html
    assert html.count('class="flag-line"') == 2  # stability and activation bars
    assert "Trend: stability, 2 sessions" in text
    assert 'class="drop"' in html  # the belt's cued drops are marked


def test_the_first_session_of_an_athlete_has_no_trend_section(
        folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "first.html"
    write_report(first(folder), out)
    html = out.read_text(encoding="utf-8")
    assert "Trend:" not in html and "<h2>Holds (8)</h2>" in html


def test_every_text_from_the_file_is_escaped(tmp_path: Path) -> None:
    path = record(tmp_path, '<script>alert("x")</script> & co', "right", seed=3,
                  created=datetime(2025, 6, 1, 7, 0))
    lines = path.read_bytes().split(b"\n")
    header = decode_line(lines[0])
    header["belt"] = "<img src=x onerror=alert(1)>"
    header["plan"]["name"] = "</title><b>plan</b>"
    header["plan"]["description"] = "\"quoted' <u>"
    lines[0] = encode_line(header).rstrip(b"\n")
    path.write_bytes(b"\n".join(lines))
    out = tmp_path / "r.html"
    write_report(path, out)
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "img" not in names and "u" not in names
    assert names.count("b") == html.count("<figcaption><b>")  # only the captions' own
    text = " ".join(page.text)
    assert '<script>alert("x")</script> & co' in text
    assert "<img src=x onerror=alert(1)>" in text and "</title><b>plan</b>" in text
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_existing_out_is_replaced_only_with_force(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    out.write_text("keep me\n")
    code, stdout, err = run(capsys, str(first(folder)), "--html", str(out))
    assert code == 2 and stdout == ""
    assert err == f"levelbelt: error: {out}: already exists; use --force to replace it\n"
    assert out.read_text() == "keep me\n"
    code, stdout, _ = run(capsys, str(first(folder)), "--html", str(out), "--force")
    assert code == 0 and out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left


def test_out_must_be_a_file_in_an_existing_folder(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(first(folder)), "--html", str(tmp_path), "--force")
    assert code == 2 and err == (f"levelbelt: error: {tmp_path}: is a directory; give the "
                                 "name of the HTML file\n")
    missing = tmp_path / "no" / "r.html"
    code, _, err = run(capsys, str(first(folder)), "--html", str(missing))
    assert code == 2 and err == (f"levelbelt: error: {missing}: the folder {missing.parent} "
                                 "does not exist\n")


def test_a_damaged_file_gets_a_page_of_its_valid_part_then_a_one_line_error(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(shutil.copy2(first(folder), tmp_path / first(folder).name))
    bad = line_numbers(path, "event")[4]
    flip_byte(path, bad)
    out = tmp_path / "r.html"
    code, stdout, err = run(capsys, str(path), "--html", str(out))
    assert code == 2 and stdout == f"{out}\n"
    assert err == (f"levelbelt: error: {path}:{bad}: CRC mismatch (the line was damaged); "
                   "line skipped\n")
    html = out.read_text(encoding="utf-8")
    assert "This file is damaged" in html and f"{path.name}:{bad}: CRC mismatch" in html


def test_a_crash_cut_file_gets_a_page_with_notes_and_exit_0(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(shutil.copy2(first(folder), tmp_path / first(folder).name))
    samples = line_numbers(path, "samples")
    cut_inside_line(path, samples[len(samples) // 2])
    out = tmp_path / "r.html"
    code, stdout, err = run(capsys, str(path), "--html", str(out))
    assert code == 0 and stdout == f"{out}\n"
    assert "note: " in err and "unfinished" in err and "last line incomplete" in err
    html = out.read_text(encoding="utf-8")
    assert "This file is damaged" not in html and "Scored on review" in html


def test_a_file_that_is_not_a_session_writes_no_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.lbs"
    src.write_text("not,a,session\n")
    out = tmp_path / "r.html"
    code, stdout, err = run(capsys, str(src), "--html", str(out))
    assert code == 2 and stdout == "" and not out.exists()
    assert err.startswith(f"levelbelt: error: {src}:1: not a LevelBelt session file")
    code, _, err = run(capsys, str(tmp_path / "missing.lbs"), "--html", str(out))
    assert code == 2 and err == (f"levelbelt: error: {tmp_path / 'missing.lbs'}: no such "
                                 "file or directory\n")


def test_a_session_without_holds_still_gets_a_page(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META)
    w.close({})
    out = tmp_path / "r.html"
    write_report(w.path, out)
    html = out.read_text(encoding="utf-8")
    assert "No hold was scored." in html and "<h2>Holds" not in html
    assert read_session(w.path).complete
