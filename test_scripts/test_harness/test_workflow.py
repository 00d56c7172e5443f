"""Tests for .github/workflows/tests.yml, which cannot run here: its structure, and that every
./test_runner.py line in it parses with the runner's own parser (a renamed flag breaks this).

YAML 1.1 reads the key `on` as the boolean True; pyyaml follows it, so the triggers are at
workflow[True].
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from test_scripts.runner import bootstrap, cli

WORKFLOW_PATH = cli.PROJECT_DIR / ".github" / "workflows" / "tests.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
# What a pull request's run substitutes for the expressions the runner's command lines use.
CONTEXT = {"github.base_ref": "main"}


def load(path: Path = WORKFLOW_PATH) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return load()


@pytest.fixture(scope="module")
def job(workflow: dict[Any, Any]) -> dict[str, Any]:
    (only,) = workflow["jobs"].values()
    return only


def matrix_legs(job: dict[str, Any]) -> Iterator[dict[str, str]]:
    matrix = {key: value for key, value in job["strategy"]["matrix"].items() if key not in ("include", "exclude")}
    for values in itertools.product(*matrix.values()):
        yield dict(zip(matrix, values))


def substitute(text: str, leg: dict[str, str]) -> str:
    """The run's text with `${{ matrix.x }}` and the CONTEXT expressions filled in."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("matrix."):
            return str(leg[name[len("matrix.") :]])
        if name in CONTEXT:
            return CONTEXT[name]
        raise AssertionError(f"an expression the test does not know how to fill: {match.group(0)}")

    return EXPRESSION.sub(value, text)


def runner_lines(run: str) -> list[list[str]]:
    """The ./test_runner.py command lines of a `run:` script, as argv lists."""
    script = run.replace("\\\n", " ")
    return [shlex.split(line)[1:] for line in script.splitlines() if line.strip().startswith("./test_runner.py")]


def applies(step: dict[str, Any], leg: dict[str, str], event: str) -> bool:
    """Evaluate the simple `if:` conditions this workflow uses: matrix equality, the event, always()."""
    condition = step.get("if")
    if condition is None or condition == "always()":
        return True
    terms = [term.strip() for term in condition.split("&&")]
    for term in terms:
        match = re.fullmatch(r"(matrix\.\w+|github\.event_name) == '([^']*)'", term)
        assert match, f"an if: the test cannot evaluate: {condition!r}"
        actual = event if match.group(1) == "github.event_name" else leg[match.group(1)[len("matrix.") :]]
        if actual != match.group(2):
            return False
    return True


def commands(job: dict[str, Any], leg: dict[str, str], event: str) -> list[list[str]]:
    """The runner commands a leg runs, in order, for an event."""
    return [
        argv
        for step in job["steps"]
        if "run" in step and applies(step, leg, event)
        for argv in runner_lines(substitute(step["run"], leg))
    ]


def test_triggers_are_push_to_main_and_pull_requests(workflow: dict[Any, Any]) -> None:
    assert workflow[True] == {"push": {"branches": ["main"]}, "pull_request": None}
    assert workflow["permissions"] == {"contents": "read"}


def test_matrix_is_three_pythons_by_two_databases(job: dict[str, Any]) -> None:
    assert job["strategy"]["matrix"] == {"python": ["3.11", "3.12", "3.13"], "db": ["sqlite", "postgres"]}
    assert job["strategy"]["fail-fast"] is False
    assert all(tuple(map(int, leg["python"].split("."))) >= bootstrap.MIN_PYTHON for leg in matrix_legs(job))
    assert set(cli.DB_CHOICES) == {leg["db"] for leg in matrix_legs(job)}


def test_postgres_service_has_a_health_check_and_the_database_the_steps_use(job: dict[str, Any]) -> None:
    service = job["services"]["postgres"]
    assert service["image"].startswith("postgres:")
    assert service["ports"] == ["5432:5432"]
    options = service["options"]
    assert '--health-cmd "pg_isready -U postgres -d test"' in options
    assert re.search(r"--health-retries \d+", options)
    urls = {step["env"]["DATABASE_URL"] for step in job["steps"] if "DATABASE_URL" in step.get("env", {})}
    assert urls == {"postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/test"}
    (url,) = urls
    # The runner takes it as it is (an asyncpg URL), and it names the service's user, password and database.
    assert cli.postgres_url({"DATABASE_URL": url}) == url
    assert cli.postgres_address(url) == ("127.0.0.1", 5432)
    env = service["env"]
    assert url.endswith(f"{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@127.0.0.1:5432/{env['POSTGRES_DB']}")


def test_steps_with_database_url_are_the_postgres_ones(job: dict[str, Any]) -> None:
    for step in job["steps"]:
        uses_postgres = "--db postgres" in step.get("run", "")
        assert ("DATABASE_URL" in step.get("env", {})) == uses_postgres, step["name"]
        if uses_postgres:
            assert step["if"] == "matrix.db == 'postgres'"


def test_checkout_fetches_the_history_diff_cover_compares_with(job: dict[str, Any]) -> None:
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_every_runner_line_parses_with_the_runners_parser(job: dict[str, Any], event: str) -> None:
    seen = 0
    for leg in matrix_legs(job):
        for argv in commands(job, leg, event):
            args = cli.parse_args(argv)  # raises UsageError on a flag the runner does not know
            assert args.command in cli.COMMANDS
            seen += 1
    assert seen >= 12


def test_sqlite_311_leg_runs_the_readme_commands_and_the_policy_in_order(job: dict[str, Any]) -> None:
    run = [shlex.join(argv) for argv in commands(job, {"python": "3.11", "db": "sqlite"}, "pull_request")]
    assert run == [
        "--coverage api all",
        "check",
        "diff-cover --compare-branch origin/main --fail-under 80",
        "badge",
        "all",
        "--transport asgi api all",
        "compare",
    ]


@pytest.mark.parametrize("python", ["3.12", "3.13"])
def test_other_sqlite_legs_run_the_suites_without_the_311_policy(job: dict[str, Any], python: str) -> None:
    """The floor and the targets are 3.11 figures; the other Pythons keep fail_under."""
    run = [shlex.join(argv) for argv in commands(job, {"python": python, "db": "sqlite"}, "pull_request")]
    assert run == ["--coverage api all", "all", "--transport asgi api all", "compare"]


def test_postgres_legs_run_every_suite_on_postgres(job: dict[str, Any]) -> None:
    run = [shlex.join(argv) for argv in commands(job, {"python": "3.13", "db": "postgres"}, "push")]
    assert run == ["--coverage --db postgres api all", "--db postgres all"]


def test_diff_cover_runs_on_pull_requests_only(job: dict[str, Any]) -> None:
    on_push = commands(job, {"python": "3.11", "db": "sqlite"}, "push")
    assert [argv for argv in on_push if argv[0] == "diff-cover"] == []


def test_htmlcov_and_reports_are_uploaded_per_leg_even_after_a_failure(job: dict[str, Any]) -> None:
    (upload,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"].split() == ["htmlcov/", "reports/"]
    assert upload["with"]["name"] == "coverage-${{ matrix.python }}-${{ matrix.db }}"
    assert job["steps"][-1] is upload


def test_a_flag_the_runner_does_not_know_breaks_the_check(tmp_path: Path) -> None:
    """The parse check can fail: a workflow with a renamed flag is refused."""
    broken = tmp_path / "tests.yml"
    text = WORKFLOW_PATH.read_text(encoding="utf-8")
    assert "run: ./test_runner.py check\n" in text
    broken.write_text(text.replace("run: ./test_runner.py check\n", "run: ./test_runner.py check --ratchet\n"), encoding="utf-8")
    (job,) = load(broken)["jobs"].values()
    with pytest.raises(cli.UsageError, match="unrecognized arguments: --ratchet"):
        for argv in commands(job, {"python": "3.11", "db": "sqlite"}, "push"):
            cli.parse_args(argv)
