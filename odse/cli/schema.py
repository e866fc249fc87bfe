"""``odse schema``: print the ODS-E record's JSON Schema (or the mapping language's)."""

from __future__ import annotations

import click

from odse.cli.app import CONTEXT_SETTINGS

RECORD_SCHEMA = "energy-timeseries.json"
MAPPING_SCHEMA = "mapping-v1.json"


@click.command("schema", context_settings=CONTEXT_SETTINGS)
@click.option("--mapping", "mapping_language", is_flag=True,
              help=f"Print the mapping language's schema ({MAPPING_SCHEMA}) instead.")
def schema_command(mapping_language: bool) -> None:
    """Print the JSON Schema of the ODS-E energy-timeseries record.

    The file odse validates against (schemas/energy-timeseries.json), as shipped:
    redirect it to a file to use it with other tools.
    """
    from odse.resources import data_dir

    name = MAPPING_SCHEMA if mapping_language else RECORD_SCHEMA
    text = (data_dir("schemas") / name).read_text(encoding="utf-8")
    click.echo(text, nl=not text.endswith("\n"))
