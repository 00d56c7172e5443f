"""Tests for test_scripts/compare/html.py: the compare page, read as a parser and as a browser sees it.

The fixture compare_fixtures/html/compare.json is one Python's result over a small fake project in
compare_fixtures/html/project/: `thread` loses lines in two files and credits a line that never
ran to the router, `greenlet` loses many, `thread+greenlet` and `project` are exact, `sysmon` is
skipped, and backend/app/services/gone.py is in the result but not on disk. Line 33 of the fake
service holds ``<script>`` and ``&``.

Structure tests parse the page with html.parser into a small tree. Browser tests run Debian's
chromium headless: --dump-dom for the DOM it built, --screenshot for the pixels, which we decode
with zlib and look for the bar colours in (pixel-exact references break with every chromium
release). Without chromium the browser tests fail and say how to install it; COVREF_SKIP_BROWSER=1
turns that failure into a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from test_scripts.compare.html import COLOURS, LOST_LABEL, PHANTOM_LABEL, format_percent, write_html

FIXTURES = Path(__file__).resolve().parent / "compare_fixtures" / "html"
PROJECT = FIXTURES / "project"
SERVICE = "backend/app/services/fx.py"
ROUTER = "backend/app/api/v1/fx.py"
GONE = "backend/app/services/gone.py"
WIDTH, HEIGHT = 1280, 2000
CHROMIUM_TIMEOUT = 60
INSTALL_HINT = "apt-get install -y chromium"


def load_result() -> dict[str, Any]:
    return json.loads((FIXTURES / "compare.json").read_text(encoding="utf-8"))


def config_named(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["configs"] if c["name"] == name)


# A tree from html.parser, just enough to query the page.

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def words(self) -> str:
        return " ".join(self.text().split())

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in n.classes())]

    def find_one(self, tag: str, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert len(found) == 1, f"expected one <{tag} class={cls!r}>, found {len(found)}"
        return found[0]

    def by_id(self, ident: str) -> Node:
        return next(n for n in self.iter() if n.attrs.get("id") == ident)


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID_ELEMENTS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        assert any(n.tag == tag for n in self.stack), f"</{tag}> closes nothing"
        while self.stack.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.stack == [builder.root], f"unclosed elements: {[n.tag for n in builder.stack[1:]]}"
    return builder.root


def render(tmp_path: Path, result: dict[str, Any] | None = None) -> tuple[str, Node]:
    out = tmp_path / "reports" / "compare.html"
    write_html(load_result() if result is None else result, out, PROJECT)
    markup = out.read_text(encoding="utf-8")
    return markup, parse(markup)


def cells_by_config(doc: Node, row: Node) -> dict[str, Node]:
    """The bar cells of a row of the per-file table, keyed by their column's heading."""
    headings = [th.text() for th in doc.find_one("table", "files").find_one("thead").find_all("th")]
    cells = [c for c in row.children if isinstance(c, Node) and c.tag in ("th", "td")]
    return {h: c for h, c in zip(headings, cells) if c.tag == "td" and "cell" in c.classes()}


def source_block(doc: Node, config: str, path: str) -> Node:
    section = next(s for s in doc.find_all("section", "config-src") if s.find_one("h3").text().startswith(f"{config}:"))
    return next(d for d in section.find_all("details") if d.find_one("summary").find_one("span", "path").text() == path)


def source_rows(block: Node) -> list[tuple[str, str, str]]:
    """(line number, label, code) for each source line shown; ("gap", text, "") for an elision."""
    rows = []
    for tr in block.find_one("table", "src").find_all("tr"):
        if "gap" in tr.classes():
            rows.append(("gap", tr.words(), ""))
        else:
            ln, tag, code = tr.find_all("td")
            rows.append((ln.text(), tag.text(), code.text()))
    return rows


# Structure


def test_write_html_one_row_per_file(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    rows = doc.find_one("table", "files").find_one("tbody").find_all("tr")
    assert [row.find_one("th").text() for row in rows] == [ROUTER, SERVICE, GONE]
    headings = [th.text() for th in doc.find_one("table", "files").find_one("thead").find_all("th")]
    assert headings == ["file", "statements", "truth", "thread", "greenlet", "thread+greenlet", "project"]


def test_write_html_bar_labels_state_the_counts(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    row = doc.find_one("table", "files").find_one("tbody").find_all("tr")[0]
    cells = cells_by_config(doc, row)
    thread = cells["thread"]
    assert thread.find_one("div", "bar").attrs["aria-label"] == (
        f"thread, {ROUTER}: 11 of 13 statements reported covered (84.6%); truth 12 (92.3%); 2 lost, 1 phantom"
    )
    assert thread.find_one("div", "nums").words() == "84.6% 2 lost 1 phantom"
    truth_label = cells["truth"].find_one("div", "bar").attrs["aria-label"]
    assert truth_label == f"truth, {ROUTER}: 12 of 13 statements ran (92.3%)"
    assert cells["thread+greenlet"].find_one("div", "nums").words() == "92.3% exact"
    # The bar draws what the text says: 10, 2 and 1 of 13 statements.
    widths = [(s.classes()[1], s.attrs["style"]) for s in thread.find_all("span", "seg")]
    assert widths == [("ok", "width:76.923%"), ("lost", "width:15.385%"), ("phantom", "width:7.692%")]


def test_write_html_bar_numbers_equal_the_json(tmp_path: Path) -> None:
    result = load_result()
    _, doc = render(tmp_path, result)
    truth_files = result["truth"]["files"]
    for row in doc.find_one("table", "files").find_one("tbody").find_all("tr"):
        path = row.find_one("th").text()
        statements = len(truth_files[path]["statements"])
        assert row.find_one("td", "n").text() == str(statements)
        for name, cell in cells_by_config(doc, row).items():
            if name == "truth":
                continue
            config = config_named(result, name)
            lost = len(config["lost_lines"].get(path, []))
            phantom = len(config["phantom_lines"].get(path, []))
            label = cell.find_one("div", "bar").attrs["aria-label"]
            assert f" of {statements} statements " in label
            assert label.endswith(f"; {lost} lost, {phantom} phantom")
            words = cell.find_one("div", "nums").words()
            assert (f"{lost} lost" in words) == bool(lost)
            assert (f"{phantom} phantom" in words) == bool(phantom)
    total = doc.find_one("table", "files").find_one("tfoot").find_one("tr")
    for name, cell in cells_by_config(doc, total).items():
        if name == "truth":
            assert cell.find_one("span", "pct").text() == f"{result['truth']['percent']:.1f}%"
            continue
        config = config_named(result, name)
        assert cell.find_one("span", "pct").text() == f"{config['percent']:.1f}%"
        assert cell.find_one("div", "bar").attrs["aria-label"].endswith(
            f"{config['lost']} lost, {config['phantom']} phantom; coverage reported {config['percent']:.1f}%"
        )


def test_write_html_marks_lost_lines_in_source(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    source = (PROJECT / SERVICE).read_text(encoding="utf-8").splitlines()
    rows = source_rows(source_block(doc, "thread", SERVICE))
    lost = [(ln, code) for ln, tag, code in rows if tag == LOST_LABEL]
    assert lost == [(str(n), source[n - 1]) for n in (32, 33, 34, 55, 56, 61)]
    assert lost[1][1] == """    logger.info("stored <script>alert('%s & %s')</script>", base, quote)"""
    lines_shown = [ln for ln, _, _ in rows]
    assert lines_shown == ["gap", *map(str, range(29, 38)), "gap", *map(str, range(52, 62))]
    assert [text for ln, text, _ in rows if ln == "gap"] == [
        "⋯ 28 lines not shown (lines 1–28)",
        "⋯ 14 lines not shown (lines 38–51)",
    ]


def test_write_html_marks_phantom_lines_in_source(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    rows = source_rows(source_block(doc, "thread", ROUTER))
    assert [(ln, tag) for ln, tag, _ in rows if ln != "gap" and tag] == [
        ("8", LOST_LABEL),
        ("13", LOST_LABEL),
        ("17", PHANTOM_LABEL),
    ]
    phantom_rows = source_block(doc, "thread", ROUTER).find_all("tr", "phantom")
    assert [tr.find_all("td")[0].text() for tr in phantom_rows] == ["17"]


def test_write_html_escapes_source_and_json(tmp_path: Path) -> None:
    markup, doc = render(tmp_path)
    assert "logger.info(&quot;stored &lt;script&gt;alert(&#x27;%s &amp; %s&#x27;)&lt;/script&gt;&quot;" in markup
    assert "<script" not in markup
    assert doc.find_all("script") == [] and doc.find_all("img") == []
    warnings = [td.text() for td in doc.find_all("td", "warnings")]
    assert warnings[1] == "Module <img src=x onerror=alert(1)> was never imported & so on (module-not-imported)"


def test_write_html_escapes_config_names_and_paths(tmp_path: Path) -> None:
    result = load_result()
    config_named(result, "thread")["name"] = "<b>thread</b>"
    result["truth"]["files"]["backend/app/<i>odd</i>.py"] = {"statements": [1], "executed": [1]}
    _, doc = render(tmp_path, result)
    assert doc.find_all("b") == [] and doc.find_all("i") == []
    paths = [row.find_one("th").text() for row in doc.find_one("table", "files").find_all("tr", "file")]
    assert "backend/app/<i>odd</i>.py" in paths
    assert doc.find_all("section", "config-src")[0].find_one("h3").text() == "<b>thread</b>: 9 lost, 1 phantom"


def test_write_html_reports_missing_source_file(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    block = source_block(doc, "thread", GONE)
    assert block.find_one("summary").words() == f"{GONE}: 1 lost (3)"
    assert block.find_one("p", "missing").words() == (
        f"Source not available: {PROJECT / GONE} (No such file or directory). The line numbers above are all we have."
    )


@pytest.mark.parametrize(
    ("lost", "shown"),
    [
        ([32, 40], [*map(str, range(29, 44))]),  # 36 alone between the contexts: shown
        ([32, 41], [*map(str, range(29, 45))]),  # 36-37: shown
        ([32, 42], [*map(str, range(29, 36)), "gap", *map(str, range(39, 46))]),  # 36-38: elided
    ],
)
def test_write_html_elides_only_long_runs(tmp_path: Path, lost: list[int], shown: list[str]) -> None:
    result = load_result()
    config_named(result, "thread")["lost_lines"][SERVICE] = lost
    _, doc = render(tmp_path, result)
    rows = source_rows(source_block(doc, "thread", SERVICE))
    assert [ln for ln, _, _ in rows] == ["gap", *shown, "gap"]


def test_write_html_shows_line_beyond_end_of_file(tmp_path: Path) -> None:
    result = load_result()
    config_named(result, "thread")["lost_lines"][SERVICE].append(70)
    _, doc = render(tmp_path, result)
    rows = source_rows(source_block(doc, "thread", SERVICE))
    # The file has 61 lines: no context and no elision past its end.
    assert rows[-2:] == [
        ("61", LOST_LABEL, "    return result or 0"),
        ("70", LOST_LABEL, "beyond the end of the file: the source changed after the run?"),
    ]


def test_write_html_notes_skipped_config(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    assert doc.find_one("li", "skipped").words() == "Skipped: sysmon: needs Python 3.12+"
    row = doc.find_one("table", "summary").find_one("tr", "skipped")
    assert [cell.text() for cell in row.children if isinstance(cell, Node)] == ["sysmon", "skipped: needs Python 3.12+"]
    assert "sysmon" not in [th.text() for th in doc.find_one("table", "files").find_all("th")]


def test_write_html_verdict_names_exact_recommended_and_project(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    assert doc.by_id("verdict-exact").words() == "Exact (no line lost, none invented): thread+greenlet, project"
    assert doc.by_id("verdict-recommended").words() == "Recommended: thread+greenlet (55.3 s, 2.10× no coverage)"
    assert doc.by_id("verdict-project").words() == "The project’s configuration (“project”) is exact."
    assert "good" in doc.by_id("verdict-project").classes()


def test_write_html_verdict_when_project_loses_lines(tmp_path: Path) -> None:
    result = load_result()
    project = config_named(result, "project")
    project.update(lost=2, lost_lines={SERVICE: [32, 33]})
    _, doc = render(tmp_path, result)
    assert doc.by_id("verdict-project").words() == (
        "The project’s configuration (“project”) is not exact: 2 lines lost, 0 phantom."
    )
    assert "bad" in doc.by_id("verdict-project").classes()
    assert doc.by_id("verdict-exact").words() == "Exact (no line lost, none invented): thread+greenlet"


def test_write_html_verdict_without_project_or_exact_config(tmp_path: Path) -> None:
    result = load_result()
    result["configs"] = [c for c in result["configs"] if c["name"] in ("thread", "greenlet")]
    result["recommended"] = None
    _, doc = render(tmp_path, result)
    assert doc.by_id("verdict-exact").words() == "No configuration is exact."
    assert doc.by_id("verdict-recommended").words() == "Recommended: none (no exact configuration)"
    assert doc.by_id("verdict-project").words().startswith("No “project” configuration in this run")


def test_write_html_exact_config_has_no_source_section(tmp_path: Path) -> None:
    _, doc = render(tmp_path)
    headings = [s.find_one("h3").text() for s in doc.find_all("section", "config-src")]
    assert headings == ["thread: 9 lost, 1 phantom", "greenlet: 21 lost, 0 phantom"]
    assert "Nothing to show for thread+greenlet, project: exact." in doc.words()


def test_write_html_shows_config_that_only_invents_lines(tmp_path: Path) -> None:
    result = load_result()
    config_named(result, "greenlet").update(lost=0, phantom=1, lost_lines={}, phantom_lines={SERVICE: [42]})
    _, doc = render(tmp_path, result)
    rows = source_rows(source_block(doc, "greenlet", SERVICE))
    assert [(ln, tag) for ln, tag, _ in rows if ln != "gap" and tag] == [("42", PHANTOM_LABEL)]


def test_write_html_file_without_statements(tmp_path: Path) -> None:
    result = load_result()
    result["truth"]["files"]["backend/app/__init__.py"] = {"statements": [], "executed": []}
    _, doc = render(tmp_path, result)
    row = doc.find_one("table", "files").find_all("tr", "file")[0]
    assert row.find_one("th").text() == "backend/app/__init__.py"
    assert {name: cell.find_one("div", "nums").words() for name, cell in cells_by_config(doc, row).items()} == {
        name: "no statements" for name in ("truth", "thread", "greenlet", "thread+greenlet", "project")
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0.0"), (0.04, "0.1"), (68.518, "68.5"), (99.94, "99.9"), (99.96, "99.9"), (100, "100.0")],
)
def test_format_percent_never_rounds_to_complete_or_empty(value: float, shown: str) -> None:
    assert format_percent(value) == shown


# The browser


def require_chromium(path: str | None) -> str:
    """The chromium to run: fail with the way to install it, or skip when COVREF_SKIP_BROWSER=1."""
    if path and os.access(path, os.X_OK):
        return path
    if os.environ.get("COVREF_SKIP_BROWSER") == "1":
        pytest.skip("COVREF_SKIP_BROWSER=1: chromium not installed, browser checks of the compare page skipped")
    pytest.fail(
        "chromium not found on PATH: the compare page is checked in a real headless browser. "
        f"Install it with `{INSTALL_HINT}` (Debian), or set COVREF_SKIP_BROWSER=1 to skip these tests.",
        pytrace=False,
    )


def run_chromium(tmp_path: Path, *args: str) -> bytes:
    """Run headless chromium with `args` in a session of its own; kill that session on a timeout."""
    chromium = require_chromium(shutil.which("chromium"))
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # Colours as written in the CSS, whatever the machine's display profile.
        "--force-color-profile=srgb",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        out, err = process.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT} s: {' '.join(command)}")
    finally:
        # Helpers chromium left behind (same session, same process group) go with it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, f"chromium exited {process.returncode}: {err.decode(errors='replace')[-2000:]}"
    return out


@dataclass
class Png:
    width: int
    height: int
    bytes_per_pixel: int
    rows: list[bytes]
    histogram: Counter[tuple[int, int, int]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        n = self.bytes_per_pixel
        for row in self.rows:
            self.histogram.update(zip(row[0::n], row[1::n], row[2::n]))

    def count_near(self, hex_colour: str, tolerance: int = 8) -> int:
        """Pixels within `tolerance` of the colour on every channel."""
        target = bytes.fromhex(hex_colour.lstrip("#"))
        return sum(
            n for rgb, n in self.histogram.items() if all(abs(a - b) <= tolerance for a, b in zip(rgb, target))
        )

    def rows_with_edge(self, left: str, right: str) -> int:
        """Rows where a `left` pixel meets a `right` one, with at most one blended pixel between.

        Two bar segments side by side make this edge; a highlighted source line's border or a
        legend swatch does not, since neither touches another bar colour.
        """
        n = self.bytes_per_pixel
        a, b = bytes.fromhex(left.lstrip("#")), bytes.fromhex(right.lstrip("#"))
        if n == 4:
            a, b = a + b"\xff", b + b"\xff"
        edge = re.compile(re.escape(a) + b"(?:.{%d})?" % n + re.escape(b), re.DOTALL)
        return sum(1 for row in self.rows if edge.search(row))


def decode_png(data: bytes) -> Png:
    """Decode an 8-bit RGB or RGBA PNG far enough to count its colours, with zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length, kind) = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + chunk) == crc, f"bad CRC in {kind!r}"
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour_type, _, _, interlace = header
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6), f"unexpected PNG format {header}"
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    assert len(raw) == height * (stride + 1)
    # Byte-wise addition of whole rows as big integers, for the "Up" filter: no carry crosses a byte.
    low, high = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
            line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big"))
        elif kind == 3:
            for i in range(bpp):
                line[i] = (line[i] + (previous[i] >> 1)) & 0xFF
            for i in range(bpp, stride):
                line[i] = (line[i] + ((line[i - bpp] + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            # In the first pixel there is no left neighbour: Paeth predicts the byte above.
            for i in range(bpp):
                line[i] = (line[i] + previous[i]) & 0xFF
            for i in range(bpp, stride):
                a, b, c = line[i - bpp], previous[i], previous[i - bpp]
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        else:
            assert kind == 0, f"unknown filter {kind} in row {y}"
        rows.append(bytes(line))
        previous = line
    return Png(width, height, bpp, rows)


def test_require_chromium_fails_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COVREF_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match=f"Install it with `{INSTALL_HINT}`"):
        require_chromium(None)


def test_require_chromium_skips_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVREF_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="COVREF_SKIP_BROWSER=1"):
        require_chromium(None)


def test_browser_builds_the_page_we_wrote(tmp_path: Path) -> None:
    page = tmp_path / "compare.html"
    write_html(load_result(), page, PROJECT)
    dom = parse(run_chromium(tmp_path, "--dump-dom", page.as_uri()).decode("utf-8"))
    assert dom.find_one("h1").text() == "Coverage compare: what each configuration reports, against what ran"
    rows = dom.find_one("table", "files").find_one("tbody").find_all("tr")
    assert [row.find_one("th").text() for row in rows] == [ROUTER, SERVICE, GONE]
    # 8 lost lines of thread and 21 of greenlet in the files on disk; gone.py's are not shown.
    assert len(dom.find_all("tr", "lost")) == 29
    assert [tr.find_all("td")[0].text() for tr in dom.find_all("tr", "phantom")] == ["17"]
    assert dom.find_all("script") == [] and dom.find_all("img") == []
    # (3 files + the total) x (the truth + 4 measured configurations: sysmon was skipped).
    assert len(dom.find_all("div", "bar")) == 4 * 5


def test_browser_screenshot_shows_the_bars(tmp_path: Path) -> None:
    page = tmp_path / "compare.html"
    shot = tmp_path / "compare.png"
    write_html(load_result(), page, PROJECT)
    run_chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    png = decode_png(shot.read_bytes())
    assert (png.width, png.height) == (WIDTH, HEIGHT)
    pixels = png.width * png.height
    assert png.count_near("#ffffff") < pixels * 0.9, "the page is (almost) blank"
    # Lower bounds, from the bars alone (120 x 14 px): green fills more than half of 16 of them;
    # red segments are at least 18 px wide in 7 bars; purple, at least 2 px in 2 bars.
    assert png.count_near(COLOURS["ok"]) > 16 * 60 * 14
    assert png.count_near(COLOURS["lost"]) > 7 * 18 * 14
    assert png.count_near(COLOURS["phantom"]) > 2 * 2 * 14
    # Stacked bars, drawn: green meets red in a bar on each of the 4 rows of the per-file table
    # (14 px high each), and red meets purple on the router's row and the total's. At least, not
    # exactly: row heights and rounding are the browser's business.
    assert png.rows_with_edge(COLOURS["ok"], COLOURS["lost"]) >= 4 * 14
    assert png.rows_with_edge(COLOURS["lost"], COLOURS["phantom"]) >= 2 * 14
    assert png.rows_with_edge(COLOURS["ok"], COLOURS["missed"]) >= 14
