"""Read a mapping spec from YAML or JSON and remember the line of every key.

The line table lets every later error point at ``file:line`` and the key path
(``variants[0].fields.kWh.unit``) of the offending value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from odse.errors import MappingError

KeyPath = tuple[Any, ...]


class SpecLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false are booleans, so a status word such as
    ``OFF``, ``On`` or ``No`` in a code table stays text."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


_FastLoader: Any = getattr(yaml, "CSafeLoader", None)
if _FastLoader is not None:
    class _FastSpecLoader(_FastLoader):
        """SpecLoader's resolvers on libyaml's parser (no line table)."""

    _FastSpecLoader.yaml_implicit_resolvers = SpecLoader.yaml_implicit_resolvers
    _FastLoader = _FastSpecLoader


@dataclass
class SpecText:
    """A parsed spec: the data, where it came from, and the line of each key path.

    ``trusted``: a spec shipped with odse. The test suite checks it against the schema, so
    loading it skips that check, and its line table is made only when an error asks for a
    line (libyaml reads it in a fraction of the time the line-keeping parser takes).
    """

    data: Any
    file: str | None = None
    lines: dict[KeyPath, int] = field(default_factory=dict)
    trusted: bool = False
    text: str | None = field(default=None, repr=False)

    def line_of(self, path: KeyPath) -> int | None:
        """Return the line of ``path``, or of its nearest ancestor that has one."""
        if self.text is not None and not self.lines:
            self.lines = parse_text(self.text, self.file, trusted=True).lines
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def render_path(path: KeyPath) -> str:
    """Render a key path as ``variants[0].fields.kWh``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def measure(text: str, file: str | None = None) -> None:
    """Check the spec's size before it is built: its bytes, its nesting depth, and the number
    of values once aliases are expanded (a 500-byte "billion laughs" file expands to billions).

    Walks the parser's events, so nothing is expanded and nothing recurses: each anchor's
    expanded size is remembered when its node ends, and an alias adds that size. An alias
    to an anchor whose node has not ended (a node that contains itself) is an error too.
    """
    from odse import limits

    bound = limits.current()
    if len(text) > bound.spec_bytes:
        raise limits.exceeded("spec_bytes", f"the mapping is {len(text):,} bytes", file=file)
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []            # [anchor, values so far] per open collection
    total = 0

    def add(count: int, line: int) -> None:
        nonlocal total
        total += count
        if stack:
            stack[-1][1] += count
        if total > bound.spec_nodes:
            raise limits.exceeded("spec_nodes", f"the mapping expands to more than "
                                  f"{bound.spec_nodes:,} values (YAML aliases counted as "
                                  "copies)", file=file, line=line)

    loader = SpecLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                add(1, line)
                stack.append([event.anchor, 0])
                if len(stack) > bound.spec_depth:
                    raise limits.exceeded("spec_depth", f"the mapping nests more than "
                                          f"{bound.spec_depth} levels deep", file=file,
                                          line=line)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = stack.pop()
                if anchor is not None:
                    sizes[anchor] = size + 1
                if stack:
                    stack[-1][1] += size
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                add(1, line)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in sizes:
                    open_anchors = {entry[0] for entry in stack}
                    if event.anchor in open_anchors:
                        raise MappingError(
                            f"the alias *{event.anchor} refers to the node that contains it",
                            code="MAPPING_RECURSIVE_ALIAS", file=file, line=line,
                            hint="A spec is a tree: copy the values instead of nesting the "
                                 "anchor inside itself")
                    continue  # an undefined alias: the parser says so below
                add(sizes[event.anchor], line)
    except yaml.YAMLError:
        return  # parse_text reports syntax errors with their line
    finally:
        loader.dispose()


def too_deep(file: str | None) -> Exception:
    """The error for a spec nested deeper than the YAML parser (or a check) can recurse."""
    from odse import limits

    return limits.exceeded("spec_depth", "the mapping nests too deep to be read", file=file)


def parse_text(text: str, file: str | None = None, *, trusted: bool = False) -> SpecText:
    """Parse YAML (JSON is YAML too) and record the line of every mapping key and item.

    trusted: a spec shipped with odse, which is not measured first (:func:`measure`).
    """
    if not trusted:
        measure(text, file)
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise MappingError("the mapping is empty", code="MAPPING_EMPTY", file=file,
                               hint="Write a spec with at least odse_mapping, name, format "
                                    "and fields (see: odse docs mapping-language)")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc)
        context = exc.context_mark
        if context is not None and mark is not None and context.line != mark.line:
            # an unclosed bracket is noticed lines later: name where it opened too
            problem += f" ({exc.context} on line {context.line + 1})"
        raise MappingError(
            f"the mapping is not valid YAML: {problem}",
            code="MAPPING_SYNTAX", file=file, line=(mark.line + 1) if mark else None,
            hint="Fix the syntax there (indentation, a missing colon, quote or bracket)",
        ) from None
    except yaml.YAMLError as exc:
        raise MappingError(f"the mapping is not valid YAML: {exc}", code="MAPPING_SYNTAX",
                           file=file) from None
    except RecursionError:
        raise too_deep(file) from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    try:
        _walk(node, (), lines)
    except RecursionError:
        raise too_deep(file) from None
    return SpecText(data=data, file=file, lines=lines)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            here = (*path, key)
            lines[here] = key_node.start_mark.line + 1
            _walk(value_node, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def read_spec(source: str | Path) -> SpecText:
    """Read a spec file (``.yaml``, ``.yml`` or ``.json``)."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {path}", code="MAPPING_NOT_FOUND",
                           file=str(path), hint="Check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc}", code="MAPPING_UNREADABLE",
                           file=str(path)) from None
    if _shipped(path) and _FastLoader is not None:
        return SpecText(data=yaml.load(text, Loader=_FastLoader),  # libyaml with safe resolvers
                        file=str(path), trusted=True, text=text)
    return parse_text(text, file=str(path), trusted=_shipped(path))


def _shipped(path: Path) -> bool:
    # the built-in specs are read at every start-up: the size check is for specs from users
    from odse.resources import data_dir

    try:
        return path.resolve().parent == data_dir("mappings").resolve()
    except (OSError, FileNotFoundError):
        return False
