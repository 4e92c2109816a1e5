"""YAML loading that remembers where every key was written.

``yaml.safe_load`` returns plain data and forgets positions, so a pydantic error at
``cameras.0.location.lat`` could only say *what* is wrong, not *where*. Here the document
is composed into PyYAML nodes (SafeLoader: no arbitrary objects) and walked by hand, which
yields the same plain data plus a map ``key path -> 1-based line``. Walking by hand also
lets us reject what PyYAML silently accepts: a key written twice in one mapping (PyYAML
keeps the last one, so half an edit would vanish without a word).

Mapping keys are kept as the text that was written (``on:``/``no:`` stay strings instead of
YAML 1.1 booleans); every key Vigil knows is a string. Merge keys (``<<: *anchor``) work as
in YAML: explicit keys win over merged ones and are not reported as duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from core.config.problems import KeyPath, Problem
from core.errors import ConfigError

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlProblems(ConfigError):
    """The file could not be turned into data; ``located`` keeps the problems structured."""

    def __init__(self, located: list[Problem]) -> None:
        self.located = list(located)
        super().__init__([str(p) for p in self.located])


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """Plain data (dicts, lists, scalars; ``None`` for an empty file) and key lines.
    ``source`` is the file name used in messages."""

    data: object
    lines: Mapping[KeyPath, int]
    source: str = "<string>"

    def line_of(self, path: Sequence[str | int]) -> int:
        """Line of ``path``, or of its nearest parent that was written in the file.

        Pydantic reports a missing key (``Field required``) at a path that does not exist
        in the file; the nearest parent (the camera item) is the right place to point at.
        """
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


@dataclass(slots=True)
class _Walk:
    """State of one document walk: where keys are, what went wrong, cycle guard."""

    source: str
    ctor: SafeConstructor = field(default_factory=SafeConstructor)
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    active: set[int] = field(default_factory=set)

    def fail(self, node: Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.source, node.start_mark.line + 1, path, message))


def load_yaml(text: str, source: str) -> YamlDoc:
    """Parse one YAML document; raise :class:`YamlProblems` listing every problem in it.

    ``source`` is only used to name the file in messages (``source:line: ...``).
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_syntax_problem(exc, source)]) from exc
    except ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        message = str(exc).splitlines()[0]
        raise YamlProblems([Problem(source, line, (), message)]) from exc
    except yaml.YAMLError as exc:  # any other PyYAML error has no position to report
        raise YamlProblems([Problem(source, None, (), str(exc))]) from exc
    if root is None:
        return YamlDoc(None, {(): 1}, source)
    walk = _Walk(source)
    walk.lines[()] = root.start_mark.line + 1
    data = _build(root, (), walk)
    if walk.problems:
        raise YamlProblems(walk.problems)
    return YamlDoc(data, walk.lines, source)


def read_yaml(path: Path, source: str | None = None) -> YamlDoc:
    """Read and parse ``path`` (UTF-8, BOM allowed); unreadable files are problems too."""
    name = str(path) if source is None else source
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = Problem(name, None, (), f"cannot read file: {exc.strerror}")
        raise YamlProblems([problem]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem = Problem(name, line, (), "file is not UTF-8 text; save it as UTF-8")
        raise YamlProblems([problem]) from exc
    return load_yaml(text, name)


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    """``could not find expected ':' (while scanning a simple key at line 3)``: the line where
    the parser gave up, plus where the unfinished construct began when PyYAML knows it."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    message = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context:
        at = f" at line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
        message = f"{exc.problem} ({exc.context}{at})"
    return Problem(source, line, (), message)


def _build(node: Node, path: KeyPath, walk: _Walk) -> object:
    """Turn ``node`` into plain data, recording the line of every key and list item."""
    if id(node) in walk.active:
        walk.fail(node, path, "an alias refers to itself; remove the recursive anchor")
        return None
    walk.active.add(id(node))
    try:
        if isinstance(node, MappingNode):
            return _mapping(node, path, walk)
        if isinstance(node, SequenceNode):
            return _sequence(node, path, walk)
        return _scalar(node, path, walk)
    finally:
        walk.active.discard(id(node))


def _scalar(node: Node, path: KeyPath, walk: _Walk) -> object:
    try:
        return walk.ctor.construct_object(node, deep=True)
    except ConstructorError as exc:
        walk.fail(node, path, exc.problem or "value cannot be read")
        return None


def _sequence(node: SequenceNode, path: KeyPath, walk: _Walk) -> list[object]:
    if node.tag != SEQ_TAG:
        walk.fail(node, path, f"unsupported YAML tag {node.tag}; write a plain list")
        return []
    items: list[object] = []
    for index, item in enumerate(node.value):
        walk.lines[(*path, index)] = item.start_mark.line + 1
        items.append(_build(item, (*path, index), walk))
    return items


def _mapping(node: MappingNode, path: KeyPath, walk: _Walk) -> dict[str, object]:
    if node.tag != MAP_TAG:
        walk.fail(node, path, f"unsupported YAML tag {node.tag}; write a plain mapping")
        return {}
    result = _merged(node, path, walk)
    first_line: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        if not isinstance(key_node, ScalarNode):
            walk.fail(key_node, path, "a key must be a plain string, not a list or mapping")
            continue
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key in first_line:
            walk.fail(key_node, (*path, key),
                      f"duplicate key '{key}' (first at line {first_line[key]}); keep one")
            continue
        first_line[key] = line
        walk.lines[(*path, key)] = line
        result[key] = _build(value_node, (*path, key), walk)
    return result


def _merged(node: MappingNode, path: KeyPath, walk: _Walk) -> dict[str, object]:
    """Keys brought in by ``<<: *anchor`` (or a list of anchors, earlier ones winning)."""
    result: dict[str, object] = {}
    for key_node, value_node in node.value:
        if key_node.tag != MERGE_TAG:
            continue
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in reversed(sources):
            built = _build(source, path, walk)
            if isinstance(built, dict):
                result.update(built)
            else:
                walk.fail(source, path, "'<<' merges only mappings (an anchor of a mapping)")
    return result
