"""Load YAML files with line numbers, so every problem can be reported as `path:line: message`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (about 20x faster); parse once, build data from
# the same node tree that gives the line numbers.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as `path:line: level: message`."""

    path: str
    line: int
    message: str
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass
class YamlDoc:
    """A parsed YAML document with its node tree for line lookups."""

    path: Path
    data: Any
    node: yaml.Node | None

    def line_of(self, loc: Sequence[int | str]) -> int:
        """1-based line of the value at a pydantic-style location (best effort)."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else 1
        for key in loc:
            found = _child(node, key)
            if found is None:
                break
            marker, node = found
            line = marker.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, key: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    """(node whose line names the location, child node) for a mapping key or list index."""
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if knode.value == key:
                return knode, vnode
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key], node.value[key]
    return None


def load_yaml(path: Path) -> YamlDoc | Problem:
    """Parse one YAML file, or return the problem (with its line) that stopped it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(str(path), 1, f"cannot read file: {exc}")
    try:
        node = yaml.compose(text, Loader=LOADER)
        data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        return Problem(str(path), line, f"invalid YAML: {reason}")
    return YamlDoc(path=path, data=data, node=node)
