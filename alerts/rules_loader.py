"""Load and check ``configs/rules.yaml``; every problem is a ``file:line: key.path: message``.

Parsing reuses the configuration loader's position-keeping YAML reader
(:mod:`core.config.yamlpos`) and its :class:`~core.config.problems.Problem` lines, so
``vigil validate-config`` prints rule problems exactly like camera problems.

Each rule is validated on its own by the model its ``kind`` names, so one broken rule does
not hide the problems of the others, and pydantic's error paths stay relative to the rule
(``rules.2.cooldown``) instead of carrying a union tag. Cross-checks that need the camera
list are small named functions returning findings relative to the rule; they never raise.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from pydantic import ValidationError

from alerts.rules_config import RULE_KINDS, ClonedRule, Rule, RulesFile, Scoped
from core.config.loader import pydantic_message
from core.config.problems import KeyPath, Problem
from core.config.yamlpos import YamlDoc, YamlProblems, load_yaml, read_yaml
from core.errors import ConfigError

PathArg = str | os.PathLike[str]
Finding = tuple[KeyPath, str]
"""A problem at a key path relative to one rule, before it gets a file and line."""
RuleCheck = Callable[[Rule, Collection[str], Collection[str] | None], list[Finding]]


def load_rules(path: PathArg, camera_ids: Collection[str],
               groups: Collection[str] | None = None) -> tuple[Rule, ...]:
    """Read ``path``; :class:`ConfigError` lists every problem. See :func:`check_rules`."""
    try:
        doc = read_yaml(Path(path), str(path))
    except YamlProblems as exc:
        raise ConfigError(exc.problems) from exc
    return _valid(doc, camera_ids, groups)


def parse_rules(text: str, source: str, camera_ids: Collection[str],
                groups: Collection[str] | None = None) -> tuple[Rule, ...]:
    """Like :func:`load_rules` for text already in memory; ``source`` names it in messages."""
    try:
        doc = load_yaml(text, source)
    except YamlProblems as exc:
        raise ConfigError(exc.problems) from exc
    return _valid(doc, camera_ids, groups)


def _valid(doc: YamlDoc, camera_ids: Collection[str],
           groups: Collection[str] | None) -> tuple[Rule, ...]:
    rules, problems = check_rules(doc, camera_ids, groups)
    if problems:
        raise ConfigError([str(p) for p in problems])
    return rules


def check_rules(doc: YamlDoc, camera_ids: Collection[str],
                groups: Collection[str] | None = None) -> tuple[tuple[Rule, ...], list[Problem]]:
    """Every valid rule and every problem of a parsed rules file.

    ``camera_ids`` are the cameras that exist; a rule naming another is a problem.
    ``groups``, when given, are the camera groups that exist (``None`` skips that check:
    a group nobody uses yet is not an error)."""
    data = {} if doc.data is None else doc.data
    raws: list[object] = []
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        raws, data = data["rules"], {**data, "rules": []}
    problems = _validation(doc, (), lambda: RulesFile.model_validate(data))
    placed: list[tuple[int, Rule]] = []
    for index, raw in enumerate(raws):
        prefix: KeyPath = ("rules", index)
        rule, found = _one_rule(doc, prefix, raw)
        problems += found
        if rule is None:
            continue
        for check in RULE_CHECKS:
            problems += [_place(doc, (*prefix, *where), message)
                         for where, message in check(rule, camera_ids, groups)]
        placed.append((index, rule))
    problems += _duplicates(doc, placed)
    problems.sort(key=lambda p: p.line or 0)
    return tuple(rule for _, rule in placed), problems


def _one_rule(doc: YamlDoc, prefix: KeyPath, raw: object) -> tuple[Rule | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [_place(doc, prefix, "a rule must be a mapping with id, kind and level")]
    kind = raw.get("kind")
    if kind is None:
        return None, [_place(doc, prefix, f"rule needs a kind: one of {_kinds()}")]
    model = RULE_KINDS.get(str(kind))
    if model is None:
        return None, [_place(doc, (*prefix, "kind"),
                             f"unknown rule kind '{kind}'; expected one of {_kinds()}")]
    found: list[Rule] = []
    problems = _validation(doc, prefix, lambda: found.append(model.model_validate(raw)))
    return (found[0] if found else None), problems


def _kinds() -> str:
    return ", ".join(RULE_KINDS)


def _validation(doc: YamlDoc, prefix: KeyPath, validate: Callable[[], object]) -> list[Problem]:
    """Run ``validate``; pydantic errors become problems at the lines they point to."""
    try:
        validate()
    except ValidationError as exc:
        return [_place(doc, (*prefix, *error["loc"]), pydantic_message(error))
                for error in exc.errors(include_url=False)]
    return []


def _place(doc: YamlDoc, where: KeyPath, message: str) -> Problem:
    return Problem(doc.source, doc.line_of(where), where, message)


def _duplicates(doc: YamlDoc, placed: Sequence[tuple[int, Rule]]) -> list[Problem]:
    """A rule id used twice: reported at the second (and later) use, naming the first."""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, rule in placed:
        line = doc.line_of(("rules", index, "id"))
        if rule.id in first:
            problems.append(_place(doc, ("rules", index, "id"),
                                   f"duplicate rule id '{rule.id}' (first at line "
                                   f"{first[rule.id]}); rule ids must be unique"))
        else:
            first[rule.id] = line
    return problems


def _unknown(kind: str, rule: Rule, name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    where = "cameras are defined in" if kind == "camera" else "groups are the group: keys of"
    return f"rule '{rule.id}': unknown {kind} '{name}'{hint}; {where} configs/cameras/*.yaml"


def check_rule_cameras(rule: Rule, camera_ids: Collection[str],
                       groups: Collection[str] | None) -> list[Finding]:
    """Every camera id a rule names (in ``cameras`` or a speed ``pairs`` entry) exists."""
    found: list[Finding] = []
    if isinstance(rule, Scoped):
        found += [(("cameras", i), _unknown("camera", rule, name, camera_ids))
                  for i, name in enumerate(rule.cameras) if name not in camera_ids]
    if isinstance(rule, ClonedRule):
        for i, pair in enumerate(rule.pairs):
            found += [(("pairs", i, "cameras", j), _unknown("camera", rule, name, camera_ids))
                      for j, name in enumerate(pair.cameras) if name not in camera_ids]
    return found


def check_rule_groups(rule: Rule, camera_ids: Collection[str],
                      groups: Collection[str] | None) -> list[Finding]:
    """Every group a rule names is a group some camera belongs to (when groups are known)."""
    if groups is None or not isinstance(rule, Scoped):
        return []
    return [(("groups", i), _unknown("group", rule, name, groups))
            for i, name in enumerate(rule.groups) if name not in groups]


RULE_CHECKS: tuple[RuleCheck, ...] = (check_rule_cameras, check_rule_groups)
