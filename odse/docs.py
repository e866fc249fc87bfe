"""The documentation pages that ship with odse: ``python -m odse.docs [TOPIC]``.

The pages of the repository's ``docs/`` folder are installed inside the package
(``odse/_data/docs/``), so that the documentation hints and ``--help`` texts point to
(``odse docs mapping-language``) is there after ``pip install``, without a network.
"""

from __future__ import annotations

import sys
from pathlib import Path

from odse.errors import ParameterError


def topics() -> dict[str, Path]:
    """Return every page by topic name (its file name without ``.md``), sorted."""
    from odse.resources import data_dir

    return {p.stem: p for p in sorted(data_dir("docs").glob("*.md"))}


def titles() -> dict[str, str]:
    """Return each topic's title (the page's first heading)."""
    out = {}
    for name, path in topics().items():
        first = next((ln for ln in path.read_text(encoding="utf-8").splitlines()
                      if ln.startswith("# ")), f"# {name}")
        out[name] = first[2:].strip()
    return out


def page(topic: str) -> str:
    """Return the Markdown text of a topic (``cli``, ``mapping-language``, ...)."""
    from odse.suggest import did_you_mean

    found = topics()
    key = topic.lower().removesuffix(".md").removeprefix("docs/")
    if key not in found:
        raise ParameterError(f"no documentation page '{topic}'. "
                             f"{did_you_mean(key, list(found), capital=True)}"
                             f"Pages: {', '.join(found)}", code="UNKNOWN_TOPIC")
    return found[key].read_text(encoding="utf-8")


def listing() -> str:
    """Return the list of topics with their titles, one a line."""
    names = titles()
    width = max(map(len, names), default=0)
    lines = [f"{name:<{width}}  {title}" for name, title in names.items()]
    return "\n".join([*lines, "", "Print one with: odse docs TOPIC"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the list of pages, or the page named by the first argument."""
    args = sys.argv[1:] if argv is None else argv
    try:
        sys.stdout.write(page(args[0]) if args else listing())
    except ParameterError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
