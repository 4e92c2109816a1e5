"""YAML with line numbers: data identical to safe_load, exact lines, loud about duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.config.problems import KeyPath
from core.config.yamlpos import YamlProblems, load_yaml, read_yaml

DOC = """\
service: x
cameras:
  - id: a
    zones:
      - {id: z, polygon: [[0, 0], [1, 0], [1, 1]]}
  - id: b

    name: "B"
"""


def test_data_matches_safe_load() -> None:
    assert load_yaml(DOC, "f.yaml").data == yaml.safe_load(DOC)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 1),
        (("service",), 1),
        (("cameras",), 2),
        (("cameras", 0), 3),
        (("cameras", 0, "zones", 0, "polygon", 2), 5),
        (("cameras", 1, "name"), 8),
        # not in the file: nearest written parent
        (("cameras", 1, "location", "lat"), 6),
        (("cameras", 7, "id"), 2),
        (("nothing",), 1),
    ],
)
def test_line_of_path_or_nearest_parent(path: KeyPath, line: int) -> None:
    assert load_yaml(DOC, "f.yaml").line_of(path) == line


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("a: 1\n b: 2\n", ["f.yaml:2: mapping values are not allowed here"]),
        ("a: 1\n\tb: 2\n", ["f.yaml:2: found character '\\t' that cannot start any token "
                            "(while scanning for the next token)"]),
        ("a: 'open\n", ["f.yaml:2: found unexpected end of stream "
                        "(while scanning a quoted scalar at line 1)"]),
        ("--- 1\n--- 2\n", ["f.yaml:2: but found another document "
                            "(expected a single document in the stream at line 1)"]),
        ("a: \x07\n", ["f.yaml:1: unacceptable character #x0007: special characters are not "
                       "allowed"]),
        ("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n",
         ["f.yaml:4: b.c: duplicate key 'c' (first at line 3); keep one",
          "f.yaml:5: a: duplicate key 'a' (first at line 1); keep one"]),
        ("a: !secret x\n", ["f.yaml:1: a: could not determine a constructor for the tag "
                            "'!secret'"]),
        ("a: !!set {x}\n", ["f.yaml:1: a: unsupported YAML tag tag:yaml.org,2002:set; "
                            "write a plain mapping"]),
        ("x: &a [*a]\n", ["f.yaml:1: x.0: an alias refers to itself; remove the recursive "
                          "anchor"]),
        ("? [1, 2]\n: x\n", ["f.yaml:1: a key must be a plain string, not a list or mapping"]),
        ("a: {<<: 3}\n", ["f.yaml:1: a: '<<' merges only mappings (an anchor of a mapping)"]),
    ],
)
def test_problems_are_located(text: str, problems: list[str]) -> None:
    with pytest.raises(YamlProblems) as raised:
        load_yaml(text, "f.yaml")
    assert raised.value.problems == problems


def test_merge_keys_explicit_wins_without_duplicate_error() -> None:
    text = "base: &b\n  stall_after: 3\n  loop: false\ncam:\n  <<: *b\n  loop: true\n"
    doc = load_yaml(text, "f.yaml")
    assert doc.data == {"base": {"stall_after": 3, "loop": False},
                        "cam": {"stall_after": 3, "loop": True}}
    assert doc.line_of(("cam", "loop")) == 6
    assert doc.line_of(("cam", "stall_after")) == 2  # where the merged value was written


def test_keys_stay_as_written() -> None:
    assert load_yaml("on: yes\n1: no\n", "f.yaml").data == {"on": True, "1": False}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_document_is_none(text: str) -> None:
    assert load_yaml(text, "f.yaml").data is None


def test_read_yaml_bom_and_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path, "bom.yaml").data == {"a": 1}
    with pytest.raises(YamlProblems) as raised:
        read_yaml(tmp_path / "gone.yaml", "gone.yaml")
    assert raised.value.problems == ["gone.yaml: cannot read file: No such file or directory"]
