"""The deployment files in deploy/, checked statically (no Docker, no cluster, no network).

- every YAML file parses; the Kubernetes manifests validate against the bundled
  Kubernetes JSON schemas (kubernetes-validate, strict: unknown fields fail);
- every command that compose.yaml, the manifests and the Dockerfile run is a real
  `storefront` subcommand whose options parse;
- the paths probed (/health, /ready) are routes of the app, and the Dockerfile's
  HEALTHCHECK really answers against a served app;
- the settings given by compose.yaml and the ConfigMap/Secret are accepted by
  `Settings`, and the Secret's placeholders are refused as they stand.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import typer.main
import yaml
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from storefront.cli import app as cli_app
from storefront.config import Settings
from storefront.main import create_app
from tests.notifications.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
STOREFRONT = str(Path(sys.executable).parent / "storefront")
# The oldest Kubernetes minor we claim to support, and the newest with bundled schemas.
K8S_VERSIONS = ["1.29", kubernetes_validate.latest_version()]
API_PORT = 8000
SERVER_GRACEFUL_SHUTDOWN_SECONDS = 20  # `timeout_graceful_shutdown` in `storefront serve`
STRONG_SECRET = "Zq4vN8mK2xR7tW1pL9cH5jB3fD6sG0yA-uE_"  # random-looking, 36 distinct characters


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def load_one(path: Path) -> Any:
    documents = load_all(path)
    assert len(documents) == 1, f"{path.name}: expected one document"
    return documents[0]


def kustomization() -> dict[str, Any]:
    document: dict[str, Any] = load_one(K8S / "kustomization.yaml")
    return document


def manifest_files() -> list[Path]:
    return [K8S / name for name in kustomization()["resources"]]


def manifests() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in load_all(path)]


def manifest(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in manifests() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_one(DEPLOY / "compose.yaml")
    return document


def interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` with the default, `${VAR:?message}` with a strong secret."""

    def replace(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if operator == ":-":
            return rest
        assert operator == ":?", f"${{{name}}} has no default and is not required"
        return STRONG_SECRET

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", replace, value)


# --- the Dockerfile, read instruction by instruction -----------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a line continuation"
    return instructions


def dockerfile_stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """(base image, instructions) for each stage; global ARG defaults are resolved in FROM."""
    global_args: dict[str, str] = {}
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for keyword, arguments in dockerfile_instructions():
        if keyword == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], arguments.split()[0])
            stages.append((image, []))
        elif stages:
            stages[-1][1].append((keyword, arguments))
        elif keyword == "ARG":
            name, _, default = arguments.partition("=")
            global_args[name] = default
    return stages


def exec_form(arguments: str) -> list[str]:
    """A JSON (exec form) argument list: no shell between Docker and the process."""
    argv = json.loads(arguments)
    assert isinstance(argv, list), arguments
    assert all(isinstance(item, str) for item in argv)
    return argv


def runtime_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1][1]


def one(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [arguments for name, arguments in instructions if name == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def healthcheck_command() -> list[str]:
    arguments = one(runtime_stage(), "HEALTHCHECK")
    _options, marker, command = arguments.partition("CMD ")
    assert marker, "HEALTHCHECK without CMD"
    return exec_form(command)


# --- the `storefront` command line -----------------------------------------------


def check_storefront_command(argv: list[str]) -> None:
    """That `argv` names a `storefront` subcommand and its options parse (AssertionError if not).

    Duck-typed on click's Group/Command API: recent typer vendors its own click.
    """
    assert argv[0] == "storefront", argv
    command: Any = typer.main.get_command(cli_app)
    path = ["storefront"]
    rest = argv[1:]
    while isinstance(getattr(command, "commands", None), dict):
        assert rest, f"{shlex.join(argv)}: names a group, not a command"
        name, *rest = rest
        assert name in command.commands, f"{shlex.join(argv)}: `{name}` is not a subcommand of {' '.join(path)}"
        command = command.commands[name]
        path.append(name)
    try:
        with command.make_context(" ".join(path), list(rest)):
            pass
    except Exception as exc:  # click's UsageError (or typer's copy of it): a wrong option or argument
        raise AssertionError(f"{shlex.join(argv)}: {exc}") from exc


def command_name(argv: list[str]) -> str:
    return " ".join(argv[: 3 if argv[1:2] == ["db"] else 2])


def compose_commands() -> dict[str, list[str]]:
    return {name: service["command"] for name, service in compose()["services"].items() if name in APP_SERVICES}


def k8s_commands() -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {}
    for doc in manifests():
        if doc["kind"] in {"Deployment", "Job"}:
            for container in pod_spec(doc)["containers"]:
                assert "command" in container, f"{doc['metadata']['name']}: set the command explicitly"
                commands[f"{doc['kind']}/{doc['metadata']['name']}"] = container["command"]
    return commands


async def existing_paths(paths: set[str], tmp_path: Path) -> set[str]:
    """Those of `paths` that `create_app` serves (a GET is neither 404 nor 405)."""
    settings = Settings(
        app_env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/routes.db",
        secret_key=STRONG_SECRET,
        worker_embedded=False,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return {path for path in paths if (await client.get(path)).status_code not in {404, 405}}


# --- YAML ------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def test_yaml_files_exist() -> None:
    names = {path.relative_to(DEPLOY).as_posix() for path in yaml_files()}
    assert {"compose.yaml", "k8s/kustomization.yaml"} <= names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: path.relative_to(DEPLOY).as_posix())
def test_yaml_parses(path: Path) -> None:
    documents = load_all(path)
    assert documents, f"{path.name} is empty"
    assert all(isinstance(document, dict) for document in documents)


# --- Kubernetes ------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    document = kustomization()
    assert document["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert document["kind"] == "Kustomization"
    assert "namespace" not in document, "the manifests are namespace-less"
    listed = document["resources"]
    assert len(listed) == len(set(listed))
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


def test_manifests_are_namespace_less() -> None:
    for doc in manifests():
        assert "namespace" not in doc["metadata"], doc["metadata"]["name"]


def test_every_kind_is_there() -> None:
    kinds = {(doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) for doc in manifests()}
    assert kinds == {
        ("apps/v1", "Deployment", "storefront-api"),
        ("apps/v1", "Deployment", "storefront-worker"),
        ("v1", "Service", "storefront-api"),
        ("autoscaling/v2", "HorizontalPodAutoscaler", "storefront-api"),
        ("policy/v1", "PodDisruptionBudget", "storefront-api"),
        ("v1", "ConfigMap", "storefront-config"),
        ("v1", "Secret", "storefront-secrets"),
        ("batch/v1", "Job", "storefront-migrate"),
    }


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: path.name)
def test_manifest_matches_kubernetes_schema(path: Path, version: str) -> None:
    for doc in load_all(path):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            location = "/".join(str(part) for part in exc.path)
            pytest.fail(f"{path.name} ({doc['kind']}) at {location or '/'}: {exc.message}")


def test_schema_validation_catches_mistakes() -> None:
    """The validator is not a rubber stamp: a typo and a wrong type both fail."""
    deployment = manifest("Deployment", "storefront-api")
    typo = json.loads(json.dumps(deployment))
    typo["spec"]["replica"] = typo["spec"].pop("replicas")
    wrong_type = json.loads(json.dumps(deployment))
    only_container(wrong_type)["ports"][0]["containerPort"] = "eight thousand"
    for broken in (typo, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_api_deployment() -> None:
    deployment = manifest("Deployment", "storefront-api")
    assert deployment["spec"]["replicas"] == 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = only_container(deployment)
    assert container["ports"] == [{"name": "http", "containerPort": API_PORT, "protocol": "TCP"}]
    assert {"name": "WORKER_EMBEDDED", "value": "false"} in container["env"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] == "http"

    # preStop drains the endpoints, then uvicorn shuts down gracefully: both fit in the grace period.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain = int(pre_stop[1])
    assert 3 <= drain <= 10
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert grace == 30
    assert grace > drain + SERVER_GRACEFUL_SHUTDOWN_SECONDS


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "storefront-api"), ("Deployment", "storefront-worker"), ("Job", "storefront-migrate")],
)
def test_workloads_are_locked_down(kind: str, name: str) -> None:
    workload = manifest(kind, name)
    spec = pod_spec(workload)
    container = only_container(workload)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # With a read-only root, /tmp and the app's var/ (WORKDIR /app) are emptyDirs.
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert {"/tmp", "/app/var"} <= mounts.keys()  # noqa: S108
    for path in ("/tmp", "/app/var"):  # noqa: S108
        assert "emptyDir" in volumes[mounts[path]]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][bound].keys()
    # Configuration comes from the ConfigMap and the Secret of these manifests.
    sources = {next(iter(source)): next(iter(source.values()))["name"] for source in container["envFrom"]}
    assert sources == {"configMapRef": "storefront-config", "secretRef": "storefront-secrets"}
    manifest("ConfigMap", sources["configMapRef"])
    manifest("Secret", sources["secretRef"])
    if kind == "Deployment":
        assert spec["terminationGracePeriodSeconds"] == 30
    assert container["image"].split(":")[0] in {image["name"] for image in kustomization()["images"]}


def test_worker_deployment() -> None:
    worker = manifest("Deployment", "storefront-worker")
    assert only_container(worker)["command"] == ["storefront", "worker"]
    assert "ports" not in only_container(worker)
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= labels.items()
    api_labels = manifest("Deployment", "storefront-api")["spec"]["template"]["metadata"]["labels"]
    service_selector = manifest("Service", "storefront-api")["spec"]["selector"]
    assert not service_selector.items() <= labels.items(), "the Service must not send traffic to workers"
    assert service_selector.items() <= api_labels.items()


def test_migration_job() -> None:
    job = manifest("Job", "storefront-migrate")
    assert only_container(job)["command"] == ["storefront", "db", "upgrade"]
    assert 1 <= job["spec"]["backoffLimit"] <= 6
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}


def test_service_hpa_and_pdb_target_the_api() -> None:
    deployment = manifest("Deployment", "storefront-api")
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    service = manifest("Service", "storefront-api")["spec"]
    assert service["type"] == "ClusterIP"
    assert service["selector"].items() <= labels.items()
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]

    hpa = manifest("HorizontalPodAutoscaler", "storefront-api")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "storefront-api"}
    assert hpa["minReplicas"] >= deployment["spec"]["replicas"]
    assert hpa["maxReplicas"] > hpa["minReplicas"]
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}

    pdb = manifest("PodDisruptionBudget", "storefront-api")["spec"]
    assert pdb["minAvailable"] == 1
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


def test_release_order_selector() -> None:
    """README's first pass, `-l 'app.kubernetes.io/component notin (api,worker)'`, picks
    the ConfigMap, the Secret and the migration Job: nothing that serves."""
    first_pass = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in manifests()
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component") not in {"api", "worker"}
    }
    assert first_pass == {
        ("ConfigMap", "storefront-config"),
        ("Secret", "storefront-secrets"),
        ("Job", "storefront-migrate"),
    }
    assert "component notin (api,worker)" in (ROOT / "README.md").read_text()


def k8s_environment() -> dict[str, str]:
    config = manifest("ConfigMap", "storefront-config")["data"]
    secret = manifest("Secret", "storefront-secrets")["stringData"]
    assert not config.keys() & secret.keys()
    assert all(isinstance(value, str) for value in [*config.values(), *secret.values()])
    environment: dict[str, str] = config | secret
    return environment


def test_secret_holds_only_marked_placeholders() -> None:
    secret = manifest("Secret", "storefront-secrets")
    assert "data" not in secret, "placeholders go in stringData"
    assert {"SECRET_KEY", "DATABASE_URL"} <= secret["stringData"].keys()
    for name, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, f"{name} is not marked as a placeholder"
    config = manifest("ConfigMap", "storefront-config")["data"]
    assert not {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL"} & config.keys()


def settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_k8s_settings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = k8s_environment() | {"WORKER_EMBEDDED": "false"}
    unknown = {name.lower() for name in environment} - Settings.model_fields.keys()
    assert not unknown, f"settings Storefront does not know: {unknown}"
    settings = settings_from(environment | {"SECRET_KEY": STRONG_SECRET}, monkeypatch)
    assert settings.app_env == "production"
    assert settings.log_format == "json"
    assert not settings.worker_embedded
    assert not settings.is_sqlite
    # As shipped, the placeholder key stops the start instead of signing tokens.
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        settings_from(environment, monkeypatch)


# --- compose ---------------------------------------------------------------------

APP_SERVICES = {"api-1", "api-2", "worker", "migrate"}


def test_compose_services() -> None:
    services = compose()["services"]
    assert APP_SERVICES | {"postgres", "redis", "mailpit"} <= services.keys()
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "test" in services["postgres"]["healthcheck"]
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")

    published = []
    for name in ("api-1", "api-2"):
        service = services[name]
        [port] = service["ports"]
        host_port, container_port = str(port).rsplit(":", 1)
        assert int(container_port) == API_PORT
        published.append(host_port)
        assert service["environment"]["WORKER_EMBEDDED"] == "false"
        assert service["command"][:2] == ["storefront", "serve"]
    assert len(set(published)) == 2, "each API server publishes its own port"

    assert services["worker"]["command"] == ["storefront", "worker"]
    assert services["migrate"]["command"] == ["storefront", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api-1", "api-2", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("worker", "migrate"):
        assert services[name]["healthcheck"] == {"disable": True}, f"{name} serves no /health"


def test_compose_images_are_built_from_the_dockerfile() -> None:
    for name in APP_SERVICES:
        build = compose()["services"][name]["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    for name in APP_SERVICES:
        environment = {key: interpolate(str(value)) for key, value in services[name]["environment"].items()}
        assert environment["APP_ENV"] == "production"
        assert environment["LOG_FORMAT"] == "json"
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["SMTP_URL"] == "smtp://mailpit:1025"
        # SECRET_KEY comes from the environment of `docker compose`, required.
        assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", services[name]["environment"]["SECRET_KEY"])
        settings = settings_from(environment, monkeypatch)
        assert settings.app_env == "production"
    postgres = services["postgres"]["environment"]
    url = interpolate(services["api-1"]["environment"]["DATABASE_URL"])
    user = interpolate(postgres["POSTGRES_USER"])
    password = interpolate(postgres["POSTGRES_PASSWORD"])
    database = interpolate(postgres["POSTGRES_DB"])
    assert url == f"postgresql+asyncpg://{user}:{password}@postgres:5432/{database}"


# --- commands and paths ----------------------------------------------------------


def all_commands() -> dict[str, list[str]]:
    return (
        {f"compose {name}": argv for name, argv in compose_commands().items()}
        | {f"k8s {name}": argv for name, argv in k8s_commands().items()}
        | {"Dockerfile CMD": exec_form(one(runtime_stage(), "CMD"))}
    )


@pytest.mark.parametrize("where", sorted(all_commands()))
def test_commands_are_storefront_subcommands(where: str) -> None:
    check_storefront_command(all_commands()[where])


def test_the_checker_refuses_unknown_commands() -> None:
    for argv in (["storefront", "migrate"], ["storefront", "db", "up"], ["storefront", "serve", "--wokers", "2"]):
        with pytest.raises(AssertionError):
            check_storefront_command(argv)


def test_every_process_kind_is_deployed() -> None:
    expected = {"storefront serve", "storefront worker", "storefront db upgrade"}
    assert {command_name(argv) for argv in compose_commands().values()} == expected
    assert {command_name(argv) for argv in k8s_commands().values()} == expected


async def test_probed_paths_are_routes(tmp_path: Path) -> None:
    api = only_container(manifest("Deployment", "storefront-api"))
    probed = {api[probe]["httpGet"]["path"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")}
    probed.add(healthcheck_path())
    assert probed == {"/health", "/ready"}
    assert await existing_paths(probed | {"/no-such-path"}, tmp_path) == probed


# --- the Dockerfile --------------------------------------------------------------


def healthcheck_path() -> str:
    code = healthcheck_command()[-1]
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/-]*)", code)
    assert match, code
    assert int(match.group(1)) == API_PORT
    return match.group(2)


def test_dockerfile_stages() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: the build tools stay in the builder"
    base, runtime = stages[-1]
    assert base == "python:3.11-slim"
    builder = [instruction for _, instructions in stages[:-1] for instruction in instructions]
    installs = [arguments for keyword, arguments in builder if keyword == "RUN" and "pip install" in arguments]
    assert any(re.search(r"pip install -c constraints\.txt \.(\s|$)", arguments) for arguments in installs)
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"], "the runtime stage gets the venv and nothing else"
    assert not [arguments for keyword, arguments in runtime if keyword == "RUN" and "pip" in arguments]


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in {"", "#"}
    }
    assert {".venv", "var", ".env", ".git"} <= ignored
    for _image, instructions in dockerfile_stages():
        for keyword, arguments in instructions:
            if keyword != "COPY" or arguments.startswith("--from="):
                continue
            *sources, _destination = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source.rstrip("/") not in ignored, f"{source} is in .dockerignore"


def test_dockerfile_runtime() -> None:
    runtime = runtime_stage()
    user = one(runtime, "USER").split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit(), "a numeric uid lets Kubernetes check runAsNonRoot"
    k8s_uid = pod_spec(manifest("Deployment", "storefront-api"))["securityContext"]["runAsUser"]
    assert int(user) == k8s_uid
    assert one(runtime, "EXPOSE") == str(API_PORT)
    assert one(runtime, "STOPSIGNAL") == "SIGTERM"
    assert one(runtime, "WORKDIR") == "/app"  # var/ resolves to /app/var, an emptyDir in k8s
    assert exec_form(one(runtime, "CMD")) == ["storefront", "serve", "--host", "0.0.0.0", "--port", str(API_PORT)]  # noqa: S104
    assert not [keyword for keyword, _ in runtime if keyword == "ENTRYPOINT"], "`docker run IMAGE storefront ...`"


def test_dockerfile_healthcheck_is_python_without_curl() -> None:
    argv = healthcheck_command()
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<HEALTHCHECK>", "exec")
    assert "urllib" in argv[2]
    assert "--interval=" in one(runtime_stage(), "HEALTHCHECK")


def test_readme_documents_migrations_as_a_separate_step() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "storefront db upgrade" in dockerfile
    readme = (ROOT / "README.md").read_text()
    assert "## Deploying" in readme
    assert readme.index("## Deploying") < readme.index("## Tests")


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[int]:
    """The Dockerfile's CMD with the image's ENV, on a free local port."""
    port = free_port()
    argv = exec_form(one(runtime_stage(), "CMD"))
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    image_env = dict(
        re.findall(r"(\w+)=(\S+)", " ".join(arguments for keyword, arguments in runtime_stage() if keyword == "ENV"))
    )
    image_env.pop("PATH")
    # Only what the image sets, plus a key and a throwaway SQLite database (/health touches neither).
    env = {name: value for name, value in os.environ.items() if name.lower() not in Settings.model_fields}
    env |= image_env | {"SECRET_KEY": STRONG_SECRET, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/h.db"}
    process = subprocess.Popen(  # noqa: S603
        [STOREFRONT, *argv[1:]], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def test_dockerfile_healthcheck_answers(image_server: int) -> None:
    argv = healthcheck_command()
    code = argv[2].replace(f"127.0.0.1:{API_PORT}", f"127.0.0.1:{image_server}")
    healthy = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=10, check=False)  # noqa: S603
    assert healthy.returncode == 0, healthy.stderr.decode()
    down = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code.replace("/health", "/no-such-path")], capture_output=True, timeout=10, check=False
    )
    assert down.returncode != 0
