"""``odse docs [TOPIC]``: print a documentation page that ships with the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from odse.cli.app import CONTEXT_SETTINGS

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


def complete_topic(ctx: click.Context, param: click.Parameter,
                   incomplete: str) -> list[CompletionItem]:
    """Shell completion for a topic name."""
    from click.shell_completion import CompletionItem

    from odse.docs import topics

    return [CompletionItem(name) for name in topics() if name.startswith(incomplete.lower())]


@click.command("docs", context_settings=CONTEXT_SETTINGS,
               short_help="Print a documentation page (offline; the pages ship with odse).")
@click.argument("topic", required=False, shell_complete=complete_topic)
def docs_command(topic: str | None) -> None:
    """Print the documentation page TOPIC as Markdown, or list the pages.

    The pages ship with the package, so they are there offline and match the installed
    version. Page through one with: odse docs cli | less
    """
    from odse import docs

    click.echo(docs.page(topic) if topic else docs.listing(), nl=False)
