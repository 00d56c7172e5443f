"""Keep docker-compose.yml, backend/Dockerfile, .dockerignore and .env.example honest.

No Docker engine is needed. We parse the files and check them against the app itself (its
Settings, its routes, its Pipfile), and we run what plain Python can run here: the step that
turns Pipfile.lock into the image's requirements, and the image's CMD and HEALTHCHECK on a copy
of the files the Dockerfile copies, laid out where the image puts them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from dotenv import dotenv_values
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.core.config import DEFAULT_API_TOKEN, Settings
from app.main import create_app
from test_scripts.test_server_helper import running_server

PROJECT_DIR = Path(__file__).resolve().parents[2]
BACKEND_DIR = PROJECT_DIR / "backend"
COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
DOCKERFILE = BACKEND_DIR / "Dockerfile"
DOCKERIGNORE = PROJECT_DIR / ".dockerignore"
ENV_EXAMPLE = PROJECT_DIR / ".env.example"
PIPFILE = PROJECT_DIR / "Pipfile"
PIPFILE_LOCK = PROJECT_DIR / "Pipfile.lock"
LOCK_SCRIPT = "test_scripts/runner/bootstrap.py"

# What the app needs at run time: paths relative to backend/ (its import root) and to the WORKDIR.
RUNTIME_PATHS = ("app", "alembic", "alembic.ini", "data")
SETTINGS_ENV_NAMES = frozenset(name.upper() for name in Settings.model_fields)
TEST_TOKEN = "a-secret-of-the-tests-own"
BAD_LOCK_EXIT = 65  # bootstrap.BAD_LOCK_EXIT of test_scripts/runner/bootstrap.py
HASHED_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[^\]]+)\])?==(?P<version>[^\s;]+)"
    r"(?:; (?P<markers>.+?))?(?P<hashes>(?: --hash=sha256:[0-9a-f]{64})+)"
)


# --- reading the files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_stages() -> list[list[Instruction]]:
    """The Dockerfile's stages, each a list of instructions from its FROM on.

    Continued lines are joined and comment lines dropped (also inside a continuation), as BuildKit does.
    """
    stages: list[list[Instruction]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"{keyword} before the first FROM"
        stages[-1].append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return stages


def final_stage() -> list[Instruction]:
    return dockerfile_stages()[-1]


def only(stage: list[Instruction], keyword: str) -> Instruction:
    found = [instruction for instruction in stage if instruction.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the stage, found {len(found)}"
    return found[0]


def runs(stage: list[Instruction]) -> list[str]:
    return [instruction.args for instruction in stage if instruction.keyword == "RUN"]


def exec_form(args: str) -> list[str]:
    """A JSON-array argument list: the shell form would put /bin/sh between Docker's signals and Python."""
    argv = json.loads(args)
    assert isinstance(argv, list) and all(isinstance(arg, str) for arg in argv), args
    return argv


def image_cmd() -> list[str]:
    return exec_form(only(final_stage(), "CMD").args)


def image_healthcheck() -> list[str]:
    args = only(final_stage(), "HEALTHCHECK").args
    options, cmd, command = args.partition("CMD ")
    assert cmd and all(option.startswith("--") for option in options.split()), args
    return exec_form(command)


def compose_healthcheck() -> list[str]:
    test = service("app")["healthcheck"]["test"]
    assert test[0] == "CMD", f"the app's health check should run without a shell: {test}"
    return test[1:]


def env_instructions(stage: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                key, equals, value = pair.partition("=")
                assert equals, f"ENV should be written key=value: {instruction.args}"
                values[key] = value
    return values


def workdir(stage: list[Instruction]) -> PurePosixPath:
    return PurePosixPath(only(stage, "WORKDIR").args)


def copies(stage: list[Instruction]) -> dict[str, PurePosixPath]:
    """Each COPY source taken from the build context (not from a stage), with its absolute target."""
    result: dict[str, PurePosixPath] = {}
    current = PurePosixPath("/")
    for instruction in stage:
        if instruction.keyword == "WORKDIR":
            current = current / instruction.args
        if instruction.keyword != "COPY" or "--from=" in instruction.args:
            continue
        *sources, target = [arg for arg in shlex.split(instruction.args) if not arg.startswith("--")]
        into_directory = len(sources) > 1 or target.endswith("/")
        for source in sources:
            result[source] = current / target / PurePosixPath(source).name if into_directory else current / target
    return result


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def environment_of(name: str) -> dict[str, str]:
    """A service's environment as a mapping, whether the file writes a mapping or a list."""
    environment = service(name).get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


class MissingVariable(LookupError):
    """A ${NAME:?error} whose variable is unset or empty: compose stops with `error`."""


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error} and $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, word = match.group("name"), match.group("op") or "", match.group("word") or ""
        present = name in variables and (variables[name] != "" or not operator.startswith(":"))
        if operator.endswith("?") and not present:
            raise MissingVariable(f"{name}: {word}")
        if operator.endswith("-") and not present:
            return word
        return variables.get(name, "")

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<word>[^}]*))?\}", substitute, value)


def app_environment(variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app container's environment as compose hands it over, given the user's `variables`."""
    variables = {"API_TOKEN": TEST_TOKEN} if variables is None else variables
    return {key: interpolate(value, variables) for key, value in environment_of("app").items()}


def settings_from(environment: Mapping[str, str]) -> Settings:
    return Settings(_env_file=None, **{key.lower(): value for key, value in environment.items()})


def container_ports(name: str) -> list[int]:
    return [int(str(port).rsplit(":", 1)[1].split("/")[0]) for port in service(name).get("ports", [])]


def health_url(argv: list[str]) -> str:
    urls = re.findall(r"https?://[^'\"\s]+", " ".join(argv))
    assert len(urls) == 1, f"expected one URL in the health check, found {urls}"
    return urls[0]


def on_port(argv: list[str], port: int) -> list[str]:
    """The health check `argv`, aimed at `port` of the same host."""
    return [re.sub(r"(https?://[^/:'\"\s]+):\d+", rf"\g<1>:{port}", arg) for arg in argv]


def with_our_python(argv: list[str]) -> list[str]:
    assert argv[0] == "python", f"expected the image's `python`, got {argv[0]}"
    return [sys.executable, *argv[1:]]


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    parts, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] in "*?":
            parts.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            parts.append(pattern[i : end + 1])
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts))


def dockerignored(path: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out of the build context.

    The last matching pattern wins, and a pattern matching a directory takes everything in it.
    """
    segments = PurePosixPath(path).parts
    prefixes = ["/".join(segments[: n + 1]) for n in range(len(segments))]
    ignored = False
    for pattern in dockerignore_patterns():
        regex = _dockerignore_regex(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not pattern.startswith("!")
    return ignored


# --- helpers that run parts of the image here --------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built here see what the test hands them, never the developer's own environment."""
    for name in list(os.environ):
        if name.upper() in SETTINGS_ENV_NAMES:
            monkeypatch.delenv(name)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Our environment without settings or PYTHONPATH (the copy must be the import root), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_ENV_NAMES and k != "PYTHONPATH"}
    return env | extra


def materialize(stage: list[Instruction], root: Path) -> Path:
    """Copy what `stage` COPYs from the build context to where it puts it, under `root`.

    Returns the stage's WORKDIR under `root`: where its RUN, CMD and HEALTHCHECK run.
    """
    for source, target in copies(stage).items():
        origin, destination = PROJECT_DIR / source, root / target.relative_to("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, destination)
    return root / workdir(stage).relative_to("/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_ecb_csv(path: Path, days: int = 3) -> Path:
    """The newest `days` days of the bundled history: the real format, loaded in a moment."""
    with zipfile.ZipFile(BACKEND_DIR / "data" / "eurofxref-hist.zip") as archive:
        text = archive.read(archive.namelist()[0]).decode()
    path.write_text("\n".join(text.splitlines()[: days + 1]) + "\n")
    return path


@contextmanager
def serving_image(workdir: Path, *, env: Mapping[str, str], timeout: float = 60.0) -> Iterator[list[str]]:
    """Run the image's CMD in `workdir` on a free port until the image's HEALTHCHECK passes.

    Yields that health check, aimed at the server. We give up at `timeout`, or as soon as the
    server dies, with its output; the server is stopped on the way out, killed if it lingers.
    """
    port = free_port()
    cmd = with_our_python(image_cmd())
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"  # no need to listen on every interface of this machine
    check = with_our_python(on_port(image_healthcheck(), port))
    log = workdir.parent / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while subprocess.run(check, capture_output=True, timeout=30).returncode != 0:
            if server.poll() is not None:
                pytest.fail(f"the image's CMD exited with {server.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the image's HEALTHCHECK did not pass within {timeout} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield check
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def requirement_step() -> list[str]:
    """The build stage's RUN that writes the requirements: one command, no shell around it."""
    found = [args for args in runs(dockerfile_stages()[0]) if "bootstrap.py" in args]
    assert len(found) == 1, f"expected one RUN of bootstrap.py, found {found}"
    argv = shlex.split(found[0])
    assert not {"&&", "||", ";", "|", ">"} & set(argv), f"keep the step a single command: {found[0]}"
    return argv


def run_lock_script(tmp_path: Path, lock: object | str) -> subprocess.CompletedProcess[str]:
    lock_file = tmp_path / "Pipfile.lock"
    lock_file.write_text(lock if isinstance(lock, str) else json.dumps(lock))
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / LOCK_SCRIPT), str(lock_file), "--section", "default"],
        capture_output=True, text=True, timeout=60,
    )


def comparable(settings: Settings) -> dict[str, object]:
    """The settings' values, with secrets revealed and relative paths resolved against the cwd."""
    values = settings.model_dump()
    values["api_token"] = settings.api_token.get_secret_value()
    values["ecb_file_path"] = settings.ecb_file_path.resolve()
    prefix, separator, path = settings.database_url.partition(":///")
    if settings.database_kind == "sqlite" and separator:
        values["database_url"] = f"{prefix}:///{Path(path).resolve()}"
    return values


# --- docker-compose.yml: the database ----------------------------------------------------------------


def test_db_image_is_postgres_pinned_to_a_minor_release() -> None:
    assert re.fullmatch(r"postgres:1[56]\.\d+(-[a-z]+)?", service("db")["image"]), service("db")["image"]


def test_db_sets_user_password_and_database() -> None:
    environment = environment_of("db")
    assert all(environment.get(name) for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")), environment


def test_db_keeps_its_data_in_a_declared_named_volume() -> None:
    volume, _, target = service("db")["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in (compose().get("volumes") or {})


def test_db_healthcheck_runs_pg_isready() -> None:
    test = service("db")["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert test[1].startswith("pg_isready ")


@pytest.mark.parametrize("name", ["db", "app"])
def test_published_ports_bind_loopback_only(name: str) -> None:
    ports = [str(port) for port in service(name)["ports"]]
    assert ports
    assert all(port.startswith("127.0.0.1:") for port in ports), ports


# --- docker-compose.yml: the app --------------------------------------------------------------------


def test_app_builds_backend_dockerfile_from_project_root() -> None:
    build = service("app")["build"]
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == PROJECT_DIR
    assert (PROJECT_DIR / build["dockerfile"]).resolve() == DOCKERFILE


def test_app_database_url_points_at_the_db_service() -> None:
    url = make_url(app_environment()["DATABASE_URL"])
    db = environment_of("db")
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password) == (db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
    assert url.database == db["POSTGRES_DB"]
    assert url.host == "db"
    assert url.port in (None, *container_ports("db"))


def test_app_environment_names_only_settings_fields() -> None:
    assert set(environment_of("app")) - SETTINGS_ENV_NAMES == set()


def test_app_environment_is_accepted_by_settings() -> None:
    environment = app_environment()
    settings = settings_from(environment)
    assert settings.environment == environment["ENVIRONMENT"]
    assert settings.database_kind == "postgresql"
    assert settings.api_token.get_secret_value() == TEST_TOKEN


def test_app_api_token_is_required_from_the_user() -> None:
    raw = environment_of("app")["API_TOKEN"]
    assert re.fullmatch(r"\$\{API_TOKEN:\?[^}]+\}", raw), raw
    with pytest.raises(MissingVariable, match="API_TOKEN"):
        app_environment({"API_TOKEN": ""})


def test_app_environment_refuses_the_development_token() -> None:
    with pytest.raises(ValidationError, match="API_TOKEN must be set"):
        settings_from(app_environment({"API_TOKEN": DEFAULT_API_TOKEN}))


def test_app_waits_for_a_healthy_db() -> None:
    assert service("app")["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "healthcheck" in service("db")


def test_app_ports_agree_with_the_dockerfile() -> None:
    exposed = int(only(final_stage(), "EXPOSE").args.split("/")[0])
    cmd = image_cmd()
    assert container_ports("app") == [exposed]
    assert int(cmd[cmd.index("--port") + 1]) == exposed
    assert urlsplit(health_url(image_healthcheck())).port == exposed
    assert urlsplit(health_url(compose_healthcheck())).port == exposed


@pytest.mark.parametrize("where", ["Dockerfile", "docker-compose.yml"])
def test_healthcheck_calls_the_health_route_with_urllib(where: str) -> None:
    argv = image_healthcheck() if where == "Dockerfile" else compose_healthcheck()
    assert argv[:2] == ["python", "-c"] and "urllib.request" in argv[2], argv
    path = urlsplit(health_url(argv)).path
    assert path == "/health"
    # The OpenAPI paths, not app.routes: included routers need not expose a `.path` of their own.
    operations = create_app(Settings(_env_file=None)).openapi()["paths"]
    assert "get" in operations.get(path, {}), f"no GET {path} among {sorted(operations)}"


def compose_cli() -> list[str]:
    """`docker compose`, when the docker CLI and its compose plugin are installed; else we skip."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker CLI is not installed")
    if subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("the docker CLI has no compose plugin: `docker compose version` fails")
    return [docker, "compose"]


def compose_config(tmp_path: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker compose config -q`: validates and interpolates the file; no engine needed."""
    no_dotenv = tmp_path / "empty.env"  # a developer's ./.env must not decide the outcome
    no_dotenv.write_text("")
    return subprocess.run(
        [*compose_cli(), "--env-file", str(no_dotenv), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_compose_config_validates(tmp_path: Path) -> None:
    result = compose_config(tmp_path, subprocess_env(API_TOKEN=TEST_TOKEN))
    assert result.returncode == 0, result.stderr


def test_compose_config_fails_without_api_token(tmp_path: Path) -> None:
    result = compose_config(tmp_path, subprocess_env())
    assert result.returncode != 0
    assert "API_TOKEN" in result.stderr


# --- backend/Dockerfile -----------------------------------------------------------------------------


def test_base_image_python_is_one_the_pipfile_accepts() -> None:
    images = {only(stage, "FROM").args.split(" AS ")[0] for stage in dockerfile_stages()}
    assert len(images) == 1, f"the stages should share one base (the venv links into it): {images}"
    image = images.pop()
    match = re.fullmatch(r"python:(\d+\.\d+\.\d+)-slim(?:-[a-z]+)?", image)
    assert match, f"the base should be python:X.Y.Z-slim[-distro], pinned to a release: {image}"
    required = tomllib.loads(PIPFILE.read_text())["requires"]["python_version"]
    assert match.group(1).startswith(f"{required}.")
    assert json.loads(PIPFILE_LOCK.read_text())["_meta"]["requires"]["python_version"] == required


def test_final_stage_runs_as_the_user_it_creates() -> None:
    stage = final_stage()
    user = only(stage, "USER").args.split(":")[0]
    assert user not in ("root", "0")
    commands = " && ".join(runs(stage))
    assert re.search(rf"useradd [^&]*\b{re.escape(user)}\b", commands), commands
    assert re.search(rf"chown {re.escape(user)}(:\S+)? var\b", commands), "the user should own var/ (SQLite's home)"


def test_final_stage_environment_is_python_settings_or_path() -> None:
    env = env_instructions(final_stage())
    assert (env["PYTHONDONTWRITEBYTECODE"], env["PYTHONUNBUFFERED"]) == ("1", "1")
    assert set(env) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PATH"} <= SETTINGS_ENV_NAMES


def test_cmd_runs_cli_serve_on_all_interfaces() -> None:
    cmd = image_cmd()
    assert cmd[:4] == ["python", "-m", "app.cli", "serve"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


def test_image_gets_every_path_the_app_needs() -> None:
    stage = final_stage()
    assert workdir(stage) == PurePosixPath("/app")
    sources = {target: source for source, target in copies(stage).items()}
    for name in RUNTIME_PATHS:
        assert sources.get(workdir(stage) / name) == f"backend/{name}", f"{workdir(stage) / name} <- backend/{name}"
        assert (BACKEND_DIR / name).exists()


def test_image_layout_keeps_config_and_alembic_paths(tmp_path: Path) -> None:
    root = materialize(final_stage(), tmp_path)
    probe = (
        "import json, app\n"
        "from alembic.script import ScriptDirectory\n"
        "from app.core.config import BACKEND_DIR, VAR_DIR, Settings\n"
        "from app.db.migrate import alembic_config\n"
        "ecb = Settings(_env_file=None).ecb_file_path\n"
        "head = ScriptDirectory.from_config(alembic_config()).get_current_head()\n"
        "print(json.dumps([app.__file__, str(BACKEND_DIR), str(VAR_DIR), str(ecb), ecb.is_file(), head]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60, env=subprocess_env()
    )
    assert result.returncode == 0, result.stderr
    module, backend, var, ecb, ecb_exists, head = json.loads(result.stdout)
    assert Path(module).is_relative_to(root)
    assert (backend, var) == (str(root), str(root / "var"))
    assert (ecb, ecb_exists) == (str(root / "data" / "eurofxref-hist.zip"), True)
    assert head is not None


def test_image_cmd_serves_and_passes_its_healthcheck(tmp_path: Path) -> None:
    root = materialize(final_stage(), tmp_path / "image")
    env = env_instructions(final_stage())
    env.pop("PATH")  # it names /opt/venv; we run our own interpreter instead
    env |= {"API_TOKEN": TEST_TOKEN, "ECB_FILE_PATH": str(small_ecb_csv(tmp_path / "ecb.csv"))}
    with serving_image(root, env=subprocess_env(**env)) as check:
        body = httpx.get(health_url(check), timeout=10).json()
    assert (body["status"], body["database"]) == ("ok", {"reachable": True, "kind": "sqlite"})
    assert (root / "var" / "app.db").is_file()  # the default database lands in the image's var/


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_healthcheck_exit_code_follows_the_status(status: int, exit_code: int) -> None:
    async def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("{}", status_code=status)

    with running_server(Starlette(routes=[Route("/health", health)])) as base_url:
        check = with_our_python(on_port(image_healthcheck(), urlsplit(base_url).port))
        assert subprocess.run(check, capture_output=True, timeout=30).returncode == exit_code


def test_healthcheck_fails_when_nothing_listens() -> None:
    check = with_our_python(on_port(image_healthcheck(), free_port()))
    assert subprocess.run(check, capture_output=True, timeout=30).returncode == 1


# --- the image's packages: Pipfile.lock's "default" section, hashed --------------------------------


def test_requirement_step_pins_exactly_the_default_section(tmp_path: Path) -> None:
    build = dockerfile_stages()[0]
    assert LOCK_SCRIPT in copies(build) and "Pipfile.lock" in copies(build)
    argv = requirement_step()
    output = materialize(build, tmp_path) / argv[argv.index("--output") + 1]
    result = subprocess.run(
        with_our_python(argv), cwd=output.parent, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = output.read_text().splitlines()
    default = json.loads(PIPFILE_LOCK.read_text())["default"]
    found = {}
    for line in lines:
        match = HASHED_REQUIREMENT.fullmatch(line)
        assert match, f"not a pinned, hashed requirement: {line[:120]}"
        found[match["name"]] = match
    assert len(lines) == len(found) and set(found) == set(default)
    for name, match in found.items():
        assert f"=={match['version']}" == default[name]["version"]
        assert set(match["hashes"].split(" --hash=")[1:]) == set(default[name]["hashes"])
        assert (match["extras"] or None) == (",".join(sorted(default[name].get("extras", []))) or None)
        assert (match["markers"] or None) == default[name].get("markers")


def test_pip_installs_only_the_generated_requirements() -> None:
    stages = dockerfile_stages()
    step = requirement_step()
    installs = [
        shlex.split(command)
        for stage in stages
        for args in runs(stage)
        for command in args.split("&&")
        if "pip install" in command or "pip3 install" in command or "pipenv" in command
    ]
    assert len(installs) == 1, f"the image should install once, from the lock: {installs}"
    options = installs[0][installs[0].index("install") + 1 :]
    assert sorted(options) == sorted(
        ["--require-hashes", "--no-deps", "-r", step[step.index("--output") + 1]]
    ), options
    assert options[options.index("-r") + 1] == step[step.index("--output") + 1]
    assert [i.args for i in final_stage() if i.keyword == "COPY" and "--from=" in i.args] == [
        "--from=build /opt/venv /opt/venv"
    ]


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        ({"default": {"fastapi": {"version": "*", "hashes": ["sha256:" + "0" * 64]}}}, "fastapi in [default] is not pinned with == (version: *)"),
        ({"default": {"fastapi": {"version": "==1.0"}}}, "fastapi in [default] has no hashes"),
        ({"develop": {"pytest": {"version": "==9.2.0", "hashes": ["sha256:" + "0" * 64]}}}, 'no "default" packages'),
        ("{not json", "is not valid JSON"),
    ],
    ids=["unpinned", "unhashed", "no-default", "not-json"],
)
def test_lock_script_refuses_a_lock_pip_cannot_verify(tmp_path: Path, lock: object, message: str) -> None:
    result = run_lock_script(tmp_path, lock)
    assert result.returncode == BAD_LOCK_EXIT
    assert result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


# --- .dockerignore ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        "htmlcov/index.html",
        "reports/junit.xml",
        "backend/var/app.db",
        "backend/app/__pycache__/main.cpython-311.pyc",
        ".pytest_cache/README.md",
        ".coverage",
    ],
)
def test_dockerignore_keeps_local_state_out_of_the_context(path: str) -> None:
    assert dockerignored(path)


def test_dockerignore_keeps_every_copied_file() -> None:
    for stage in dockerfile_stages():
        for source in copies(stage):
            origin = PROJECT_DIR / source
            files = [origin] if origin.is_file() else [p for p in origin.rglob("*") if "__pycache__" not in p.parts]
            assert files, source
            for path in files:
                assert not dockerignored(path.relative_to(PROJECT_DIR).as_posix()), path


# --- .env.example -----------------------------------------------------------------------------------


def test_env_example_lists_exactly_the_settings_fields() -> None:
    names = [line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"[A-Z_]+=", line)]
    assert len(names) == len(set(names)), names
    assert set(names) == SETTINGS_ENV_NAMES
    assert set(dotenv_values(ENV_EXAMPLE)) == SETTINGS_ENV_NAMES


def test_env_example_comments_every_variable() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"[A-Z_]+=", line):
            assert lines[number - 1].startswith("# "), f"no comment above {line}"


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_DIR)  # where `./test_runner.py serve` reads .env from
    assert comparable(Settings(_env_file=ENV_EXAMPLE)) == comparable(Settings(_env_file=None))
