"""The `scientist` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from scientist import __version__
from scientist.authoring.cli import templates_app
from scientist.commands import register as register_campaign_commands
from scientist.config import dump_config, load_config
from scientist.errors import ScientistError
from scientist.llm.cli import llm_app
from scientist.review.cli import register as register_review_commands
from scientist.sandbox.cli import sandbox_app
from scientist.view.cli import register as register_view_command
from scientist.writeup.cli import register as register_write_command

app = typer.Typer(
    name="scientist",
    help="Automated research campaigns: ideas, sandboxed experiments, papers, reviews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show and check campaign configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(llm_app, name="llm")
app.add_typer(templates_app, name="templates")
register_campaign_commands(app)
register_review_commands(app)
register_write_command(app)
register_view_command(app)

err_console = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scientist {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """scientist: automated research campaigns."""


@config_app.command("show")
def config_show(
    file: Annotated[Path | None, typer.Argument(help="campaign TOML file")] = None,
    template: Annotated[str | None, typer.Option(help="override: the experiment pack")] = None,
) -> None:
    """Print the resolved configuration (file + overrides) as TOML."""
    overrides = {"template": template}
    if file is None and template is None:
        overrides["template"] = "merge"
    typer.echo(dump_config(load_config(file, overrides)), nl=False)


def main() -> None:
    """Entry point: user errors become one clear line and exit code 2, never a traceback."""
    try:
        app()
    except ScientistError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"  hint: {escape(exc.hint)}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
