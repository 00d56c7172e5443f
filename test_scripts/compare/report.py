"""compare's result as text: the terminal tables (rich) and reports/compare.md.

Both show the same three things, built by the same functions: a per-file table of line
percentages (the truth, then each configuration; a cell that lost lines says ``-N``, one that
invented lines ``+N``), a per-configuration table (lost, phantom, wall time, ratio to the plain
run, the core coverage used, warnings), and the verdict.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from test_scripts.compare.analyze import BRANCH_REFERENCE, display_percent, is_exact

PROJECT = "project"
RUNNER = "runner"


def _measured(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in result["configs"] if not c.get("skipped")]


def _cell(percent: float | None, lost: int, phantom: int) -> str:
    text = display_percent(percent)
    marks = (f" -{lost}" if lost else "") + (f" +{phantom}" if phantom else "")
    return text + marks


def title(result: Mapping[str, Any]) -> str:
    where = ", ".join(str(part) for part in (result.get("db"), result.get("transport")) if part)
    return f"Python {result['python']}, coverage {result['coverage_version']}: {result['suite']}" + (
        f" ({where})" if where else ""
    )


def file_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]], list[str], int]:
    """(header, rows, total row, number of files without statements left out) of the per-file table."""
    configs = _measured(result)
    truth = result["truth"]["files"]
    header = ["File", "Stmts", "truth", *[c["name"] for c in configs]]
    rows, empty = [], 0
    for path in sorted(truth):
        statements = len(truth[path]["statements"])
        if not statements:
            empty += 1
            continue
        row = [path, str(statements), display_percent(100.0 * len(truth[path]["executed"]) / statements)]
        for config in configs:
            figures = config["files"].get(path, {})
            row.append(
                _cell(
                    figures.get("percent"),
                    len(config["lost_lines"].get(path, ())),
                    len(config["phantom_lines"].get(path, ())),
                )
            )
        rows.append(row)
    total = ["TOTAL", str(result["truth"]["statements"]), display_percent(result["truth"]["percent"])]
    total += [_cell(c["percent"], c["lost"], c["phantom"]) for c in configs]
    return header, rows, total, empty


def config_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the per-configuration table: truth and plain first."""
    header = ["Run", "line %", "lost", "phantom", "wall s", "ratio", "core", "warnings"]
    plain = result.get("plain_wall_s")
    rows = [
        ["truth", display_percent(result["truth"]["percent"]), "", "", _seconds(result.get("truth_wall_s")), "",
         "+".join(result["truth"].get("engines", [])) + " (recorder)", ""],
        ["plain (no coverage)", "", "", "", _seconds(plain), "1.00x" if plain else "", "", ""],
    ]  # fmt: skip
    for config in result["configs"]:
        if config.get("skipped"):
            rows.append([config["name"], "skipped", "", "", "", "", "", config["skipped"]])
            continue
        branch_percent = config.get("branch_percent")
        branch = f" (branch {display_percent(branch_percent)})" if branch_percent is not None else ""
        rows.append(
            [
                config["name"],
                display_percent(config["percent"]) + branch,
                str(config["lost"]),
                str(config["phantom"]),
                _seconds(config.get("wall_s")),
                f"{config['ratio']:.2f}x" if config.get("ratio") is not None else "",
                config.get("core") or "?",
                str(len(config.get("warnings") or [])) if config.get("warnings") else "",
            ]
        )
    return header, rows


def _seconds(value: float | None) -> str:
    return f"{value:.1f}" if isinstance(value, (int, float)) else ""


def verdict_lines(result: Mapping[str, Any]) -> list[str]:
    by_name = {c["name"]: c for c in _measured(result)}
    lines = []
    exact = result.get("exact") or []
    lines.append(f"exact (0 lost, 0 phantom): {', '.join(exact) if exact else 'none'}")
    recommended = result.get("recommended")
    if recommended:
        config = by_name[recommended]
        ratio = f", {config['ratio']:.2f}x the plain run" if config.get("ratio") is not None else ""
        branch = "branch" if config.get("branch") else "line only"
        lines.append(f"fastest exact (recommended): {recommended} ({branch}{ratio})")
    elif exact:
        lines.append(f"fastest exact: none other than {PROJECT}")
    else:
        lines.append("fastest exact: none (no configuration is exact)")
    project = by_name.get(PROJECT)
    if project is None:
        lines.append(f"the project's rc file ({PROJECT}): not measured (not in --configs)")
    elif project["lost"] == 0 and project["phantom"] == 0:
        lines.append(f"the project's rc file ({PROJECT}): exact")
    else:
        lines.append(
            f"the project's rc file ({PROJECT}): NOT exact, {project['lost']} lines lost, "
            f"{project['phantom']} phantom (the guard fails)"
        )
    runner = by_name.get(RUNNER)
    if runner is not None:
        stands = runner.get("stands_for") or "?"
        if is_exact(runner):
            lines.append(f"what --coverage runs ({RUNNER} = {stands}): exact")
        else:
            lines.append(f"what --coverage runs ({RUNNER} = {stands}): NOT exact (the guard fails)")
    for config in by_name.values():
        if config.get("branches_match") is not None:
            state = "same as" if config["branches_match"] else "DIFFERENT from"
            lines.append(f"{config['name']}: branch figures {state} {BRANCH_REFERENCE}'s")
    return lines


def note_lines(result: Mapping[str, Any], empty_files: int) -> list[str]:
    notes = []
    if empty_files:
        notes.append(f"{empty_files} file{'s' if empty_files != 1 else ''} without statements not listed")
    notes.append(
        "cells: line %; -N: N executed lines reported missed (lost); "
        "+N: N lines reported covered that never ran (phantom)"
    )
    for config in result["configs"]:
        if config.get("skipped"):
            notes.append(f"{config['name']} skipped: {config['skipped']}")
    for config in _measured(result):
        for warning in config.get("warnings") or []:
            notes.append(f"{config['name']}: {warning}")
        for problem in config.get("conversion_problems") or []:
            notes.append(f"{config['name']}: slipcover conversion: {problem}")
        if config.get("analysis_disagrees"):
            notes.append(
                f"{config['name']}: coverage's own report disagrees with the shared mapping on "
                f"{', '.join(config['analysis_disagrees'])}; treat its figures with suspicion"
            )
    for problem in result["truth"].get("problems") or []:
        notes.append(f"truth: {problem}")
    if result["truth"].get("imported_before_start"):
        notes.append("truth: imported before recording started: " + ", ".join(result["truth"]["imported_before_start"]))
    if result.get("note"):
        notes.append(result["note"])
    if result.get("work_dir"):
        notes.append(f"rc files, data and logs of every run: {result['work_dir']}/")
    return notes


# --- terminal ---------------------------------------------------------------------------------


def print_result(result: Mapping[str, Any], file: TextIO | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    stream = file or sys.stdout
    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(file=stream, highlight=False, width=240, color_system=None)

    header, rows, total, empty = file_rows(result)
    table = Table(title=f"Line coverage per file: {title(result)}", box=box.SIMPLE_HEAD, show_footer=False)
    for index, name in enumerate(header):
        if index == 0:
            table.add_column(name, no_wrap=True)
        else:
            # Narrow columns: "thread+greenlet/branch" over three lines.
            table.add_column(name.replace("+", "+\n").replace("/", "\n/"), justify="right", no_wrap=True)

    def styled(cell: str, index: int) -> Text:
        if index >= 3 and (" -" in cell or " +" in cell):
            return Text(cell, style="bold red")
        return Text(cell)

    for row in rows:
        table.add_row(*(styled(cell, i) for i, cell in enumerate(row)))
    table.add_section()
    table.add_row(*(styled(cell, i) for i, cell in enumerate(total)), style="bold")
    console.print(table)

    header, rows = config_rows(result)
    summary = Table(title=f"Per configuration: {title(result)}", box=box.SIMPLE_HEAD)
    for index, name in enumerate(header):
        summary.add_column(name, justify="left" if index in (0, 6, 7) else "right", no_wrap=index != 7)
    for row in rows:
        inexact = row[2] not in ("", "0") or row[3] not in ("", "0")
        summary.add_row(*row, style="red" if inexact else None)
    console.print(summary)
    for line in verdict_lines(result):
        console.print(Text("verdict: " + line, style="bold"))
    for line in note_lines(result, empty):
        console.print(Text("note: " + line, style="dim"))
    console.print()


# --- markdown ---------------------------------------------------------------------------------


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    align = ["---" if index == 0 else "---:" for index in range(len(header))]
    return [line(header), "|" + "|".join(align) + "|", *(line(row) for row in rows)]


def markdown_section(result: Mapping[str, Any]) -> str:
    header, rows, total, empty = file_rows(result)
    parts = [f"## {title(result)}", "", "```", result.get("command") or "./test_runner.py compare", "```", ""]
    parts += _md_table(header, [*rows, [f"**{cell}**" for cell in total]])
    parts.append("")
    header, rows = config_rows(result)
    parts += _md_table(header, rows)
    parts.append("")
    parts += [f"- {line}" for line in verdict_lines(result)]
    parts.append("")
    parts += [f"_{line}_  " for line in note_lines(result, empty) if not line.startswith("rc files")]
    parts.append("")
    return "\n".join(parts)


def markdown(results: Sequence[Mapping[str, Any]]) -> str:
    head = [
        "# Coverage per configuration, against the truth",
        "",
        "Line % per file as each coverage configuration reports it, next to an independent record of the",
        "lines that ran (test_scripts/truth). Written by `./test_runner.py compare`.",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(markdown_section(result) for result in results)
