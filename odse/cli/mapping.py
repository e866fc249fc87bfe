"""``odse mapping check`` and ``odse mapping test``: validate a spec, run its examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from odse.cli import console, errors
from odse.cli.app import CONTEXT_SETTINGS

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@click.group("mapping", context_settings=CONTEXT_SETTINGS,
             short_help="Check a mapping spec (with line numbers) or run its examples.")
def mapping_group() -> None:
    """Check a mapping spec, or run the examples it carries.

    A mapping spec (YAML or JSON) describes one source: where each record field
    comes from and how it is converted. See docs/mapping-language.md; start from a
    built-in one with: odse sources show SOURCE > my_oem.yaml
    """


@mapping_group.command("check", context_settings=CONTEXT_SETTINGS)
@click.argument("specs", nargs=-1, required=True, metavar="FILE...")
def check_command(specs: tuple[str, ...]) -> None:
    """Check mapping specs against the mapping language.

    Every expression is also run over a few synthetic rows, so that a spec that would
    crash at run time fails here. Prints 'OK: FILE (source NAME, N variants)' on stdout
    for a good spec, and 'Error: FILE:LINE: problem (at key.path). what to do' on stderr
    for a bad one; 'Warning: ...' on stderr for a variant that reads times without an
    offset and declares no zone. A built-in source's name checks its spec. Exit 0 when
    all are good (warnings included), 2 otherwise (3 when a spec goes past a limit:
    odse --limit).
    """
    from odse.errors import OdseError
    from odse.mapping.dry_run import dry_run, warnings

    bad = 0
    for spec in specs:
        try:
            mapping = _load(spec)
            problems = dry_run(mapping)
            if problems:
                raise problems[0]
        except OdseError as exc:
            errors.echo_error(errors.render(exc))
            bad = max(bad, errors.exit_code_of(exc))
            continue
        for warning in warnings(mapping):
            click.echo(f"Warning: {spec}: {warning}", err=True)
        variants = console.plural(len(mapping.variants), "variant")
        examples = _example_count(mapping)
        tail = f", {console.plural(examples, 'example')}" if examples else ""
        click.echo(f"OK: {spec} (source {mapping.name}, {variants}{tail})")
    if bad:
        raise click.exceptions.Exit(bad if bad == errors.IO_FAILURE else errors.USAGE)


@mapping_group.command("test", context_settings=CONTEXT_SETTINGS)
@click.argument("specs", nargs=-1, required=True, metavar="FILE...")
def test_command(specs: tuple[str, ...]) -> None:
    """Run the examples a mapping spec carries and compare the records.

    Each example (under examples:, at the top or in a variant) gives an input, optional
    params, and the expected records; floats are compared to 1e-9 relative. Prints
    PASS or FAIL per example with the differences. A built-in source's name tests its
    spec. Exit 0 when all pass, 1 when one fails or a spec has no examples, 2 for a
    spec that does not load.
    """
    from odse.errors import OdseError
    from odse.mapping.examples import run_examples

    failed = 0
    for spec in specs:
        try:
            mapping = _load(spec)
        except OdseError as exc:
            errors.echo_error(errors.render(exc))
            code = errors.exit_code_of(exc)
            raise click.exceptions.Exit(code if code == errors.IO_FAILURE
                                        else errors.USAGE) from None
        results = run_examples(mapping)
        if not results:
            errors.echo_error(f"{spec} has no examples to run; add some under examples: "
                              "(input, params, expect), see docs/mapping-language.md")
            failed += 1
            continue
        click.echo(f"{spec} (source {mapping.name}): "
                   f"{console.plural(len(results), 'example')}")
        for result in results:
            where = f" [{result.variant}]" if result.variant else ""
            click.echo(f"  {'PASS' if result.passed else 'FAIL'} {result.name}{where}")
            for problem in result.problems:
                click.echo(f"       {problem}")
        passed = sum(r.passed for r in results)
        click.echo(f"  {passed} passed, {len(results) - passed} failed")
        failed += len(results) - passed
    if failed:
        raise click.exceptions.Exit(errors.DATA_FAILED)


def _load(spec: str) -> Any:
    """Load a spec file, or a built-in source's spec when ``spec`` names one."""
    from odse.mapping import load_mapping

    path = Path(spec)
    if not path.exists() and path.suffix.lower() not in SPEC_SUFFIXES and "/" not in spec:
        from odse import registry

        return registry.get(spec)  # unknown: UnknownSourceError with the nearest name
    return load_mapping(path)


def _example_count(mapping: Any) -> int:
    from odse.mapping.examples import examples_of

    return len(examples_of(mapping))
