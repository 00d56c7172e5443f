"""reports/compare.html: one self-contained page showing what each configuration got wrong.

The page has three parts. A header with the run (Python, coverage, suite, transport, database) and
the verdict: which configurations are exact, the recommended one, and whether the project's own
configuration (the one named ``project``) is exact. A per-file table: one row per source file, one
column for the truth and one per configuration, each cell a stacked bar (green: ran and reported
covered; red: ran but reported missed, "lost"; purple: reported covered but never ran, "phantom")
with the same numbers as text beside it and in the bar's label, so nothing is said by colour alone.
Then, for every configuration that loses or invents lines, the source of each affected file with
those lines marked and a few lines of context around them.

Everything that comes from the JSON or from source files goes through ``html.escape``. The page
needs no network and no JavaScript: collapsing uses ``<details>``. We use the standard library
only, so the page can be written from any interpreter the compare command runs on.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from test_scripts.compare.analyze import display_percent as format_percent
from test_scripts.compare.analyze import percent_of

LOST_LABEL = "ran, reported missed"
PHANTOM_LABEL = "reported covered, never ran"
# Lines of unaffected source shown either side of a lost or phantom line.
CONTEXT = 3
# A run of hidden lines shorter than this is shown instead: a marker saying "2 lines not shown"
# takes the room of the lines themselves.
MIN_GAP = 3
# The project's own configuration file, as the compare command names its run.
PROJECT_CONFIG = "project"

COLOURS = {
    "ok": "#2e7d32",
    "lost": "#d32f2f",
    "phantom": "#7b1fa2",
    "missed": "#dde1e6",
}


@dataclass(frozen=True)
class LineCounts:
    """Statement counts for one file (or all files) under one configuration, against the truth."""

    statements: int
    true_covered: int
    lost: int
    phantom: int

    @property
    def truth_executed(self) -> int:
        return self.true_covered + self.lost

    @property
    def reported(self) -> int:
        return self.true_covered + self.phantom

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.phantom == 0


def write_html(result: dict[str, Any], path: Path, project_dir: Path) -> None:
    """Write the compare page for one Python's `result` (compare.json's content) to `path`.

    Source files named in the result are read from `project_dir`; a missing one is reported on the
    page rather than raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result, project_dir), encoding="utf-8")


def render_html(result: Mapping[str, Any], project_dir: Path) -> str:
    """Return the compare page for `result` as a string."""
    return _Page(result, project_dir).render()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _line_list(lines: Iterable[int]) -> str:
    return ", ".join(str(n) for n in sorted(lines))


def _lines_of(mapping: object, path: str) -> set[int]:
    if not isinstance(mapping, Mapping):
        return set()
    return {int(n) for n in mapping.get(path) or ()}


class _Page:
    """The data of one compare.json, indexed the way the page reads it, and the page's parts."""

    def __init__(self, result: Mapping[str, Any], project_dir: Path) -> None:
        self.result = result
        self.project_dir = project_dir
        truth = result.get("truth") or {}
        self.truth_files: Mapping[str, Mapping[str, Sequence[int]]] = truth.get("files") or {}
        self.truth_percent = truth.get("percent")
        configs = result.get("configs") or []
        self.measured = [c for c in configs if not c.get("skipped")]
        self.skipped = [c for c in configs if c.get("skipped")]
        paths = set(self.truth_files)
        for config in self.measured:
            for key in ("lost_lines", "phantom_lines"):
                paths.update(path for path, lines in (config.get(key) or {}).items() if lines)
        self.paths = sorted(paths)
        self.file_ids = {path: index for index, path in enumerate(self.paths)}

    # Counting

    def counts(self, config: Mapping[str, Any] | None, path: str) -> LineCounts:
        """Counts for `path`; `config` None gives the truth's own (nothing lost or invented)."""
        entry = self.truth_files.get(path) or {}
        statements = {int(n) for n in entry.get("statements") or ()}
        executed = {int(n) for n in entry.get("executed") or ()}
        lost = _lines_of(config and config.get("lost_lines"), path)
        phantom = _lines_of(config and config.get("phantom_lines"), path)
        return LineCounts(
            statements=len(statements | lost | phantom),
            true_covered=len(executed - lost),
            lost=len(lost),
            phantom=len(phantom),
        )

    def total_counts(self, config: Mapping[str, Any] | None) -> LineCounts:
        per_file = [self.counts(config, path) for path in self.paths]
        return LineCounts(
            statements=sum(c.statements for c in per_file),
            true_covered=sum(c.true_covered for c in per_file),
            lost=sum(c.lost for c in per_file),
            phantom=sum(c.phantom for c in per_file),
        )

    @staticmethod
    def lost_total(config: Mapping[str, Any]) -> int:
        if "lost" in config:
            return int(config["lost"])
        return sum(len(lines) for lines in (config.get("lost_lines") or {}).values())

    @staticmethod
    def phantom_total(config: Mapping[str, Any]) -> int:
        if "phantom" in config:
            return int(config["phantom"])
        return sum(len(lines) for lines in (config.get("phantom_lines") or {}).values())

    def is_exact(self, config: Mapping[str, Any]) -> bool:
        return self.lost_total(config) == 0 and self.phantom_total(config) == 0

    # The page

    def render(self) -> str:
        title = f"Coverage compare: Python {self.result.get('python', '?')}, suite {self.result.get('suite', '?')}"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            self.header(),
            self.summary_table(),
            self.file_table(),
            self.sources(),
            "</body>",
            "</html>",
        ]
        return "\n".join(parts) + "\n"

    def header(self) -> str:
        r = self.result
        facts = [
            ("Python", r.get("python")),
            ("coverage", r.get("coverage_version")),
            ("suite", r.get("suite")),
            ("transport", r.get("transport")),
            ("database", r.get("db")),
        ]
        meta = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v if v is not None else '?')}</dd></div>" for k, v in facts)
        return (
            '<header>\n<h1>Coverage compare: what each configuration reports, against what ran</h1>\n'
            f'<dl class="meta">{meta}</dl>\n{self.verdict()}\n</header>'
        )

    def verdict(self) -> str:
        exact = [c for c in self.measured if self.is_exact(c)]
        items = []
        if exact:
            names = ", ".join(f"<strong>{_e(c.get('name'))}</strong>" for c in exact)
            items.append(f'<li class="good" id="verdict-exact">Exact (no line lost, none invented): {names}</li>')
        else:
            items.append('<li class="bad" id="verdict-exact">No configuration is exact.</li>')
        recommended = self.result.get("recommended")
        if recommended:
            # The compare command recommends the fastest exact configuration; its time says why.
            chosen = next((c for c in self.measured if c.get("name") == recommended), {})
            timing = f"{_seconds(chosen.get('wall_s'))}{_ratio_note(chosen.get('ratio'))}" if chosen else ""
            items.append(
                f'<li id="verdict-recommended">Recommended: <strong>{_e(recommended)}</strong>'
                f"{f' ({_e(timing)})' if timing else ''}</li>"
            )
        else:
            items.append('<li id="verdict-recommended">Recommended: none (no exact configuration)</li>')
        items.append(self.project_verdict())
        for config in self.skipped:
            items.append(
                f'<li class="skipped">Skipped: <strong>{_e(config.get("name"))}</strong>: '
                f"{_e(config.get('skipped'))}</li>"
            )
        return '<ul class="verdict">' + "".join(items) + "</ul>"

    def project_verdict(self) -> str:
        project = next((c for c in self.result.get("configs") or [] if c.get("name") == PROJECT_CONFIG), None)
        name = f"The project&rsquo;s configuration (&ldquo;{PROJECT_CONFIG}&rdquo;)"
        if project is None:
            return (
                f'<li id="verdict-project">No &ldquo;{PROJECT_CONFIG}&rdquo; configuration in this run: '
                "the project&rsquo;s own settings were not measured.</li>"
            )
        if project.get("skipped"):
            return f'<li class="skipped" id="verdict-project">{name} was skipped: {_e(project.get("skipped"))}</li>'
        if self.is_exact(project):
            return f'<li class="good" id="verdict-project">{name} is <strong>exact</strong>.</li>'
        return (
            f'<li class="bad" id="verdict-project">{name} is <strong>not exact</strong>: '
            f"{_plural(self.lost_total(project), 'line')} lost, {self.phantom_total(project)} phantom.</li>"
        )

    def summary_table(self) -> str:
        rows = []
        for config in self.result.get("configs") or []:
            name = _e(config.get("name"))
            if config.get("skipped"):
                rows.append(
                    f'<tr class="skipped"><th scope="row">{name}</th>'
                    f'<td colspan="6">skipped: {_e(config.get("skipped"))}</td></tr>'
                )
                continue
            lost, phantom = self.lost_total(config), self.phantom_total(config)
            status = (
                '<span class="badge ok">exact</span>'
                if lost == 0 and phantom == 0
                else '<span class="badge bad">wrong</span>'
            )
            warnings = config.get("warnings") or []
            warning_cell = "<br>".join(_e(w) for w in warnings) if warnings else '<span class="quiet">none</span>'
            percent = config.get("percent")
            shown = f"{format_percent(percent)}%" if isinstance(percent, (int, float)) else "?"
            rows.append(
                f'<tr><th scope="row">{name}</th><td>{status}</td><td class="n">{shown}</td>'
                f'<td class="n{" lost-text" if lost else ""}">{lost}</td>'
                f'<td class="n{" phantom-text" if phantom else ""}">{phantom}</td>'
                f'<td class="n">{_e(_seconds(config.get("wall_s")))}{_e(_ratio_note(config.get("ratio")))}</td>'
                f'<td class="warnings">{warning_cell}</td></tr>'
            )
        truth = (
            f"{_e(format_percent(self.truth_percent))}%" if isinstance(self.truth_percent, (int, float)) else "?"
        )
        return (
            '<section>\n<h2>Configurations</h2>\n'
            f'<p>The truth (an independent record of the lines that ran) covers <strong>{truth}</strong>. '
            "Lost: lines that ran but the configuration reports missed. Phantom: lines it reports "
            "covered that never ran.</p>\n"
            '<table class="summary"><thead><tr><th scope="col">configuration</th><th scope="col">verdict</th>'
            '<th scope="col">reported</th><th scope="col">lost</th><th scope="col">phantom</th>'
            '<th scope="col">wall time</th><th scope="col">warnings</th></tr></thead>\n'
            f"<tbody>{''.join(rows)}</tbody></table>\n</section>"
        )

    def file_table(self) -> str:
        head = "".join(f'<th scope="col">{_e(c.get("name"))}</th>' for c in self.measured)
        body = []
        for path in self.paths:
            truth = self.counts(None, path)
            missing = ' <span class="note">(not in the truth record)</span>' if path not in self.truth_files else ""
            cells = [
                f'<th scope="row" class="path">{_e(path)}{missing}</th>',
                f'<td class="n">{truth.statements}</td>',
                self.bar_cell("truth", path, truth, truth),
            ]
            for index, config in enumerate(self.measured):
                counts = self.counts(config, path)
                link = f"src-{index}-{self.file_ids[path]}" if not counts.exact else None
                cells.append(self.bar_cell(str(config.get("name")), path, counts, truth, link))
            body.append(f'<tr class="file">{"".join(cells)}</tr>')
        total_truth = self.total_counts(None)
        foot = [
            '<th scope="row">all files</th>',
            f'<td class="n">{total_truth.statements}</td>',
            self.bar_cell("truth", "all files", total_truth, total_truth, reported=self.truth_percent),
        ]
        for config in self.measured:
            totals = self.total_counts(config)
            foot.append(
                self.bar_cell(str(config.get("name")), "all files", totals, total_truth, reported=config.get("percent"))
            )
        legend = "".join(
            f'<li><span class="swatch {key}"></span>{_e(text)}</li>'
            for key, text in (
                ("ok", "ran and reported covered"),
                ("lost", f"lost: {LOST_LABEL}"),
                ("phantom", f"phantom: {PHANTOM_LABEL}"),
                ("missed", "did not run, reported missed"),
            )
        )
        return (
            '<section>\n<h2>Per file</h2>\n'
            "<p>Each bar is a file&rsquo;s statements. The truth column shows what ran; in every "
            "other column, green and red together are what ran, and red is the part the "
            "configuration lost.</p>\n"
            f'<ul class="legend">{legend}</ul>\n'
            '<div class="scroll"><table class="files"><thead><tr><th scope="col">file</th>'
            f'<th scope="col">statements</th><th scope="col">truth</th>{head}</tr></thead>\n'
            f"<tbody>{''.join(body)}</tbody>\n"
            f'<tfoot><tr class="total">{"".join(foot)}</tr></tfoot></table></div>\n</section>'
        )

    def bar_cell(
        self,
        name: str,
        path: str,
        counts: LineCounts,
        truth: LineCounts,
        link: str | None = None,
        reported: object = None,
    ) -> str:
        """One stacked bar with its text equivalent: the visible numbers and the bar's label."""
        n = counts.statements
        percent = format_percent(percent_of(counts.reported, n))
        if n == 0:
            label = _e(f"{name}, {path}: no statements")
            return (
                f'<td class="cell"><div class="bar empty" role="img" aria-label="{label}" title="{label}"></div>'
                '<div class="nums quiet">no statements</div></td>'
            )
        if name == "truth":
            label = f"truth, {path}: {counts.truth_executed} of {n} statements ran ({percent}%)"
        else:
            label = (
                f"{name}, {path}: {counts.reported} of {n} statements reported covered ({percent}%); "
                f"truth {truth.truth_executed} ({format_percent(percent_of(truth.truth_executed, n))}%); "
                f"{counts.lost} lost, {counts.phantom} phantom"
            )
        if isinstance(reported, (int, float)):
            label += f"; {'total' if name == 'truth' else 'coverage reported'} {format_percent(reported)}%"
        segments = "".join(
            f'<span class="seg {key}" style="width:{100.0 * size / n:.3f}%"></span>'
            for key, size in (("ok", counts.true_covered), ("lost", counts.lost), ("phantom", counts.phantom))
            if size and n
        )
        shown = format_percent(reported) if isinstance(reported, (int, float)) else percent
        numbers = [f'<span class="pct">{shown}%</span>']
        if name != "truth":
            if counts.lost:
                numbers.append(f'<span class="lost-text">{counts.lost} lost</span>')
            if counts.phantom:
                numbers.append(f'<span class="phantom-text">{counts.phantom} phantom</span>')
            if counts.exact:
                numbers.append('<span class="quiet">exact</span>')
        text = " ".join(numbers)
        if link:
            text = f'<a href="#{link}">{text}</a>'
        return (
            f'<td class="cell"><div class="bar" role="img" aria-label="{_e(label)}" title="{_e(label)}">'
            f'{segments}</div><div class="nums">{text}</div></td>'
        )

    def sources(self) -> str:
        sections = []
        for index, config in enumerate(self.measured):
            name = _e(config.get("name"))
            lost, phantom = self.lost_total(config), self.phantom_total(config)
            if lost == 0 and phantom == 0:
                continue
            files = [
                path
                for path in self.paths
                if _lines_of(config.get("lost_lines"), path) or _lines_of(config.get("phantom_lines"), path)
            ]
            blocks = "\n".join(self.source_block(index, config, path) for path in files)
            sections.append(
                f'<section class="config-src" id="src-{index}">\n'
                f"<h3>{name}: {lost} lost, {phantom} phantom</h3>\n{blocks}\n</section>"
            )
        exact = [c for c in self.measured if self.is_exact(c)]
        note = ""
        if exact:
            names = ", ".join(_e(c.get("name")) for c in exact)
            note = f'<p class="quiet">Nothing to show for {names}: exact.</p>\n'
        return '<section>\n<h2>Lines in the source</h2>\n' + note + "\n".join(sections) + "\n</section>"

    def source_block(self, index: int, config: Mapping[str, Any], path: str) -> str:
        lost = _lines_of(config.get("lost_lines"), path)
        phantom = _lines_of(config.get("phantom_lines"), path)
        anchor = f"src-{index}-{self.file_ids[path]}"
        summary = f'<span class="path">{_e(path)}</span>: '
        summary += ", ".join(
            part
            for part in (
                f'<span class="lost-text">{len(lost)} lost</span> ({_line_list(lost)})' if lost else "",
                f'<span class="phantom-text">{len(phantom)} phantom</span> ({_line_list(phantom)})' if phantom else "",
            )
            if part
        )
        source_path = self.project_dir / path
        try:
            text = source_path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            body = (
                f'<p class="missing">Source not available: {_e(source_path)} '
                f"({_e(error.strerror or type(error).__name__)}). The line numbers above are all we have.</p>"
            )
        else:
            body = _source_table(text.splitlines(), lost, phantom)
        return f'<details open id="{anchor}" class="file-src"><summary>{summary}</summary>\n{body}\n</details>'


def _source_table(lines: Sequence[str], lost: set[int], phantom: set[int]) -> str:
    """The marked lines of one file with CONTEXT lines around each; longer unmarked runs elided."""
    marked = lost | phantom
    length = len(lines)
    # Context stops at the end of the file; a marked line past it (the source changed after the
    # run) is still shown, with a note.
    shown = set(marked)
    for number in marked:
        shown.update(range(max(1, number - CONTEXT), min(length, number + CONTEXT) + 1))
    # Fill gaps too short to be worth a marker.
    ordered = sorted(shown)
    for before, after in zip(ordered, ordered[1:]):
        hidden = after - before - 1
        if 0 < hidden < MIN_GAP and after - 1 <= length:
            shown.update(range(before + 1, after))
    rows = []
    previous = 0
    for number in sorted(shown):
        hidden_end = min(number - 1, length)
        if hidden_end > previous:
            rows.append(_gap_row(previous + 1, hidden_end))
        rows.append(_source_row(number, lines, lost, phantom))
        previous = number
    if previous < length:
        rows.append(_gap_row(previous + 1, length))
    return f'<table class="src"><tbody>{"".join(rows)}</tbody></table>'


def _gap_row(first: int, last: int) -> str:
    count = last - first + 1
    span = f"line {first}" if count == 1 else f"lines {first}&ndash;{last}"
    return f'<tr class="gap"><td colspan="3">&#8943; {_plural(count, "line")} not shown ({span})</td></tr>'


def _source_row(number: int, lines: Sequence[str], lost: set[int], phantom: set[int]) -> str:
    if number in lost:
        css, tag = ' class="lost"', LOST_LABEL
    elif number in phantom:
        css, tag = ' class="phantom"', PHANTOM_LABEL
    else:
        css, tag = "", ""
    if number <= len(lines):
        code = _e(lines[number - 1].expandtabs(8))
    else:
        code = '<span class="note">beyond the end of the file: the source changed after the run?</span>'
    return f'<tr{css}><td class="ln">{number}</td><td class="tag">{_e(tag)}</td><td class="code">{code}</td></tr>'


def _seconds(value: object) -> str:
    return f"{value:.1f} s" if isinstance(value, (int, float)) else "?"


def _ratio_note(value: object) -> str:
    return f", {value:.2f}\u00d7 no coverage" if isinstance(value, (int, float)) else ""


_CSS = """
:root { --ok: %(ok)s; --lost: %(lost)s; --phantom: %(phantom)s; --missed: %(missed)s; }
* { box-sizing: border-box; }
body { margin: 24px 32px; font: 14px/1.45 "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
       color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
.meta { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0 0 12px; }
.meta div { display: flex; gap: 6px; }
.meta dt { color: #57606a; }
.meta dd { margin: 0; font-weight: bold; }
.verdict { list-style: none; padding: 10px 14px; margin: 0; background: #f6f8fa;
           border: 1px solid #d0d7de; border-radius: 6px; }
.verdict li { margin: 2px 0; padding-left: 10px; border-left: 4px solid transparent; }
.verdict li.good { border-left-color: var(--ok); }
.verdict li.bad { border-left-color: var(--lost); }
.verdict li.skipped, .quiet { color: #57606a; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; }
.summary th, .summary td { padding: 4px 12px 4px 0; border-bottom: 1px solid #eaeef2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.warnings { max-width: 420px; font-size: 12px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; color: #fff; }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--lost); }
.lost-text { color: #b71c1c; font-weight: bold; }
.phantom-text { color: var(--phantom); font-weight: bold; }
.scroll { overflow-x: auto; }
.files th, .files td { padding: 6px 10px 6px 0; border-bottom: 1px solid #eaeef2; }
.files td.cell { min-width: 130px; }
.files tfoot th, .files tfoot td { border-top: 2px solid #8c959f; font-weight: bold; }
th.path, .path { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px;
                 font-weight: normal; word-break: break-all; }
/* A path cut into one letter a line is unreadable: keep it whole and let the table scroll. */
.files th.path { white-space: nowrap; word-break: normal; }
.bar { display: flex; width: 120px; height: 14px; background: var(--missed); border-radius: 2px;
       overflow: hidden; }
.bar.empty { background: none; border: 1px dashed #d0d7de; }
.seg { display: block; height: 100%%; }
.seg.ok, .swatch.ok { background: var(--ok); }
.seg.lost, .swatch.lost { background: var(--lost); }
.seg.phantom, .swatch.phantom { background: var(--phantom); }
.swatch.missed { background: var(--missed); }
.nums { font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.nums span + span { margin-left: 6px; }
.nums a { color: inherit; text-decoration: none; border-bottom: 1px dotted currentColor; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 20px; }
.swatch { display: inline-block; width: 14px; height: 14px; margin-right: 6px; vertical-align: -2px;
          border-radius: 2px; }
.note { color: #57606a; font-style: italic; font-weight: normal; }
.missing { color: #9a6700; background: #fff8c5; padding: 6px 10px; border-radius: 4px; }
details.file-src { margin: 8px 0 16px; }
details.file-src summary { cursor: pointer; padding: 4px 0; }
table.src { width: 100%%; font: 12.5px/1.5 "DejaVu Sans Mono", "Liberation Mono", monospace;
            border: 1px solid #d0d7de; }
table.src td { padding: 0 8px; }
table.src td.ln { width: 4em; text-align: right; color: #57606a; user-select: none;
                  border-right: 1px solid #d0d7de; }
table.src td.tag { width: 15em; font-family: "Liberation Sans", "DejaVu Sans", sans-serif;
                   font-size: 11.5px; white-space: nowrap; }
table.src td.code { white-space: pre; }
table.src tr.lost { background: #ffe1e1; }
table.src tr.lost td.ln { border-left: 4px solid var(--lost); color: #b71c1c; font-weight: bold; }
table.src tr.lost td.tag { color: #b71c1c; }
table.src tr.phantom { background: #f3e1fa; }
table.src tr.phantom td.ln { border-left: 4px solid var(--phantom); color: var(--phantom); font-weight: bold; }
table.src tr.phantom td.tag { color: var(--phantom); }
table.src tr.gap td { background: #f6f8fa; color: #57606a; font-style: italic; padding: 2px 8px;
                      font-family: "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 11.5px; }
""" % COLOURS
