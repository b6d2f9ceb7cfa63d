"""`scientist sandbox ...`: run a command in a sandbox, check backends, build the image."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scientist.backends import known_kinds
from scientist.config import sandbox_config
from scientist.errors import ConfigError, SandboxUnavailable
from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import Availability, open_sandbox

sandbox_app = typer.Typer(
    help="Run commands in sandboxes, check backends, build the sandbox image.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)


@sandbox_app.command(
    "exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def exec_command(
    command: Annotated[list[str], typer.Argument(help="the command, after --")],
    backend: Annotated[str, typer.Option(help="a sandbox kind: local, docker, ...")] = "local",
    timeout: Annotated[float, typer.Option(help="time limit, seconds")] = 60.0,
    memory_mb: Annotated[int, typer.Option(help="memory limit, MB")] = 2048,
    disk_mb: Annotated[
        int, typer.Option(help="disk quota on what the run writes (workspace, outputs, cache), MB")
    ] = 4096,
    cpus: Annotated[float, typer.Option(help="CPU limit")] = 1.0,
    workspace: Annotated[
        Path | None,
        typer.Option(exists=True, file_okay=False, help="folder copied in (default: an empty one)"),
    ] = None,
    image: Annotated[str | None, typer.Option(help="docker image (default: offline build)")] = None,
    json: Annotated[bool, typer.Option("--json", help="print the RunResult as JSON")] = False,
) -> None:
    """Run COMMAND in a sandbox and print its RunResult; exit 1 unless its status is ok."""
    tables = {"docker": {"image": image}} if image else {}
    sandbox = open_sandbox(sandbox_config({"kind": backend, **tables}, source="--backend"))
    with tempfile.TemporaryDirectory(prefix="scientist-exec-") as empty:
        spec = _spec(workspace or Path(empty), command, timeout, memory_mb, disk_mb, cpus)
        result = sandbox.run(spec)
    if json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        console.print(_result_table(result))
    raise typer.Exit(0 if result.ok else 1)


def _spec(
    workspace: Path, command: list[str], timeout: float, memory_mb: int, disk_mb: int, cpus: float
) -> RunSpec:
    """The RunSpec of the flags; a limit out of range is a ConfigError naming its flag."""
    try:
        return RunSpec(
            workspace=workspace,
            argv=command,
            timeout_s=timeout,
            memory_mb=memory_mb,
            disk_mb=disk_mb,
            cpus=cpus,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "spec"
        flag = _FLAGS.get(field, field)
        raise ConfigError(f"{flag} {first['input']}: {first['msg'].lower()}") from None


_FLAGS = {
    "timeout_s": "--timeout",
    "memory_mb": "--memory-mb",
    "disk_mb": "--disk-mb",
    "cpus": "--cpus",
}


def _result_table(result: RunResult) -> Table:
    colour = "green" if result.ok else "red"
    table = Table(title=f"sandbox run ({result.backend})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("status", f"[{colour}]{result.status}[/]")
    table.add_row("exit code", str(result.exit_code))
    table.add_row("duration", f"{result.duration_s:.3f} s")
    table.add_row("network isolated", str(result.network_isolated))
    for name, value in (
        ("message", result.message),
        ("stdout (tail)", result.stdout_tail[-2000:]),
        ("stderr (tail)", result.stderr_tail[-2000:]),
    ):
        if value:
            table.add_row(name, value.rstrip())
    return table


def backend_availability(kind: str) -> Availability:
    """Whether `kind` can run here, with the reason and fix when it cannot."""
    try:
        return open_sandbox(sandbox_config({"kind": kind})).check()
    except SandboxUnavailable as exc:
        return Availability(ok=False, reason=exc.message, hint=exc.hint)


@sandbox_app.command("check")
def check_command() -> None:
    """Report which sandbox backends work on this machine, why not, and what each enforces."""
    table = Table(title="sandbox backends")
    for column in ("backend", "works", "why", "fix"):
        table.add_column(column, overflow="fold")
    found = {kind: backend_availability(kind) for kind in known_kinds()}
    for kind, availability in found.items():
        works = "[green]yes[/]" if availability.ok else "[red]no[/]"
        table.add_row(kind, works, escape(availability.reason), escape(availability.hint or ""))
    console.print(table)
    console.print(_guarantee_table({kind: a for kind, a in found.items() if a.guarantees}))


def _guarantee_table(found: dict[str, Availability]) -> Table:
    """One row per wall around a run, one column per working backend: enforced here or not."""
    table = Table(title="what each backend enforces on this host")
    table.add_column("wall", style="bold")
    for kind in found:
        table.add_column(kind, overflow="fold")
    names = list(dict.fromkeys(g.name for a in found.values() for g in a.guarantees))
    for name in names:
        cells = []
        for availability in found.values():
            match = [g for g in availability.guarantees if g.name == name]
            if not match:
                cells.append("")
                continue
            mark = "[green]enforced[/]" if match[0].enforced else "[red]NOT enforced[/]"
            cells.append(f"{mark}: {match[0].how}")
        table.add_row(name, *cells)
    return table


@sandbox_app.command("build")
def build_command(
    offline: Annotated[
        bool, typer.Option("--offline", help="debootstrap + host packages, no registry")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if the tag exists")] = False,
    pack: Annotated[
        str | None, typer.Option(help="also install this pack's requirements (name or path)")
    ] = None,
) -> None:
    """Build the docker sandbox image (skipped when the current tag already exists)."""
    from scientist.sandbox.docker_backend import docker_client
    from scientist.sandbox.image import build_offline
    from scientist.templates import load_template

    if not offline:
        raise ConfigError(
            "only the offline build runs from here",
            hint="use --offline, or `docker build -f sandbox/Dockerfile .` with a registry",
        )
    extra = tuple(load_template(pack).manifest.requirements) if pack else ()
    report = build_offline(docker_client(timeout_s=1800), force=force, extra=extra)
    if report.built:
        typer.echo(
            f"built {report.tag} in {report.seconds:.0f} s "
            f"({report.packages} Python distributions, {report.size_mb:.0f} MB)"
        )
    else:
        typer.echo(f"{report.tag} is up to date")
    if extra:
        typer.echo(f'for pack {pack}: set [sandbox.docker] image = "{report.tag}"')


@sandbox_app.command("cleanup")
def cleanup_command(
    every: Annotated[
        bool, typer.Option("--all", help="remove every scientist container, not only orphans")
    ] = False,
) -> None:
    """Remove sandbox containers left behind by processes that are gone."""
    from scientist.sandbox.docker_backend import docker_client, remove_orphans

    removed = remove_orphans(docker_client(), everything=every)
    typer.echo(f"removed {len(removed)} container(s){': ' if removed else ''}{', '.join(removed)}")
