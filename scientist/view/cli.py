"""`scientist view DIR [--port P] [--host H] [--out SITE]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scientist.campaign import Campaign
from scientist.view.export import export_site
from scientist.view.graphs import require_dot
from scientist.view.server import LOOPBACK, ViewServer
from scientist.view.site import Site


def view(
    directory: Annotated[Path, typer.Argument(help="campaign directory (finished or running)")],
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="port to serve on (0: any free port)")
    ] = 8000,
    host: Annotated[
        str, typer.Option(help="address to bind; anything but 127.0.0.1 exposes the campaign")
    ] = LOOPBACK,
    out: Annotated[
        Path | None, typer.Option(help="write a static site to this folder instead of serving")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="write --out into a folder that holds something else than an export"
        ),
    ] = False,
) -> None:
    """Show a campaign in the browser: leaderboard, lineage, plots, ideas with their runs,
    papers and reviews, tree searches and the model pool. Read-only; refreshes itself while
    the campaign runs."""
    campaign = Campaign.open(directory)
    require_dot()
    if out is not None:
        written = export_site(Site(campaign, live=False), out, force=force)
        typer.echo(f"wrote {written} files to {out}; open {out / 'index.html'}")
        return
    server = ViewServer(Site(campaign, live=True), host, port)
    if host != LOOPBACK:
        typer.echo(f"warning: bound to {host}: anyone who can reach it can read the campaign")
    typer.echo(f"viewing {campaign.name} at {server.url} (read-only; Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.command("view")(view)
