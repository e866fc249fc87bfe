"""``odse version``: print the version number alone (for scripts)."""

from __future__ import annotations

import click

from odse import __version__


@click.command("version")
def version_command() -> None:
    """Print the version number alone (0.1.0); odse --version prints "odse 0.1.0"."""
    click.echo(__version__)
