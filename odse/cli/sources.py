"""``odse sources``: list the sources (names, aliases, input shapes), show one's spec."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

import click

from odse.cli.app import CONTEXT_SETTINGS

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

BUILTIN_PARAMS = ("asset_id", "timezone")
GENERIC_TEMPLATE = """\
# {name} (aliases: {aliases}): the generic mapper. It has no spec of its own: give your
# columns inline (--column-map timestamp=Timestamp,kWh=ActiveEnergy_kWh) or in a short
# mapping file like this one (--mapping FILE). See: odse docs mapping-language
timestamp: Timestamp            # the time column
kWh: ActiveEnergy_kWh           # energy per interval; or kW: Power_kW (x interval_minutes)
asset_id: SiteTag               # optional: a column, else --asset-id
extra:                          # optional: more record fields from columns
  kVAr: ReactivePower_kVAr
"""


def complete_source(ctx: click.Context, param: click.Parameter,
                    incomplete: str) -> list[CompletionItem]:
    """Shell completion for a source name: every name and alias that starts so."""
    from click.shell_completion import CompletionItem

    from odse.registry import known_names

    start = incomplete.lower()
    return [CompletionItem(name) for name in known_names() if name.startswith(start)]


@click.group("sources", invoke_without_command=True, context_settings=CONTEXT_SETTINGS,
             short_help="List the sources (names, aliases, input shapes); show a spec.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the list as JSON (name, aliases, title, params, variants).")
@click.option("-l", "--long", "long_form", is_flag=True,
              help="Describe each source: title, input shapes and parameters.")
@click.pass_context
def sources_group(ctx: click.Context, as_json: bool, long_form: bool) -> None:
    """List the sources odse knows, with their aliases and input shapes.

    A source is a mapping spec (mappings/*.yaml); one source may read several input
    shapes (a portal's CSV and an API's JSON) and picks the one that fits the file.
    Names and aliases are case-insensitive. 'odse sources show NAME' prints a spec.
    """
    if ctx.invoked_subcommand is not None:
        return
    from odse.registry import sources

    listing = sources()
    if as_json:
        click.echo(json.dumps([_plain(s) for s in listing], indent=2))
    elif long_form:
        click.echo("\n".join(_describe(s) for s in listing), nl=False)
    else:
        click.echo(_table(listing))


@sources_group.command("show", context_settings=CONTEXT_SETTINGS)
@click.argument("name", shell_complete=complete_source)
@click.option("--json", "as_json", is_flag=True,
              help="Print the source's description as JSON instead of its spec.")
def show_command(name: str, as_json: bool) -> None:
    """Print the mapping spec of source NAME (any alias, any case).

    The YAML is printed as shipped, comments included: redirect it to a file to start
    a mapping of your own (odse sources show SOURCE > my_oem.yaml).
    """
    from pathlib import Path

    from odse.registry import is_generic, source_info

    info = source_info(name)  # an unknown name raises UnknownSourceError (exit 2)
    if as_json:
        click.echo(json.dumps(_plain(info), indent=2))
        return
    if is_generic(name):
        click.echo(GENERIC_TEMPLATE.format(name=info["name"],
                                           aliases=", ".join(info["aliases"])), nl=False)
        return
    text = Path(info["file"]).read_text(encoding="utf-8")
    click.echo(text, nl=not text.endswith("\n"))


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    out = dict(info)
    if out.get("file") is not None:
        out["file"] = str(out["file"])
    return out


def _shapes(info: dict[str, Any]) -> str:
    formats: list[str] = []
    for variant in info["variants"]:
        if variant["format"] not in formats:
            formats.append(variant["format"])
    return ", ".join(formats)


def _own_params(info: dict[str, Any]) -> str:
    names = [p for p in info.get("params", {}) if p not in BUILTIN_PARAMS]
    return ", ".join(names) or "-"


def _table(listing: list[dict[str, Any]]) -> str:
    rows = [("NAME", "ALIASES", "SHAPES", "PARAMETERS", "TITLE")]
    rows += [(s["name"], ", ".join(s["aliases"]) or "-", _shapes(s), _own_params(s),
              s.get("title") or "") for s in listing]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell
                       for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.append("")
    lines.append("Every source also takes --asset-id and --timezone. Details: odse sources "
                 "--long; a spec: odse sources show NAME.")
    return "\n".join(lines)


def _describe(info: dict[str, Any]) -> str:
    lines = [f"{info['name']}: {info.get('title') or ''}".rstrip()]
    if info["aliases"]:
        lines.append(f"  aliases: {', '.join(info['aliases'])}")
    if info.get("description"):
        lines += textwrap.wrap(" ".join(str(info["description"]).split()), width=92,
                               initial_indent="  ", subsequent_indent="  ")
    lines.append("  input shapes:")
    for variant in info["variants"]:
        about = f" - {variant['description']}" if variant.get("description") else ""
        lines.append(f"    {variant['name']} ({variant['format']}){about}")
    params = {n: p for n, p in info.get("params", {}).items() if n not in BUILTIN_PARAMS}
    if params:
        lines.append("  parameters:")
        for pname, p in params.items():
            default = "" if p.get("default") is None else f", default {p['default']}"
            about = f" - {p['description']}" if p.get("description") else ""
            lines.append(f"    {pname} ({p.get('type')}{default}){about}")
    return "\n".join(lines) + "\n"
