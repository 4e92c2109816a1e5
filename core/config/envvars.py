"""``${VAR}`` expansion in configuration string values.

Secrets (camera passwords, tokens) must not live in files that are committed or copied
around, so any string value may refer to an environment variable:

* ``${NAME}`` — the variable's value; an unset variable is a problem that names it.
* ``${NAME:-default}`` — the value, or ``default`` when the variable is unset *or empty*
  (shell semantics). The default is literal text: no nesting.
* ``$${`` — a literal ``${`` (for a password that really contains it).

Expansion runs on the parsed data, never on the file text, so a value cannot inject YAML
structure and positions stay exact. Only string values are expanded; keys never are.
Expanded values are secrets: nothing here logs them, and problems name only the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.config.problems import KeyPath

_TOKEN = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)\}|\$\{")
_BODY = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?$", re.DOTALL)

Finding = tuple[KeyPath, str]
"""A problem at a key path, before it is given a file and line."""


def expand_env(data: object, env: Mapping[str, str]) -> tuple[object, list[Finding]]:
    """Return ``data`` with every string value expanded, and the problems found on the way."""
    findings: list[Finding] = []
    return _expand(data, (), env, findings), findings


def _expand(value: object, path: KeyPath, env: Mapping[str, str],
            findings: list[Finding]) -> object:
    if isinstance(value, dict):
        return {key: _expand(item, (*path, key), env, findings) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, (*path, index), env, findings) for index, item in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        text, problems = expand_string(value, env)
        findings.extend((path, problem) for problem in problems)
        return text
    return value


def expand_string(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand one string; unresolved references are left as written and reported."""
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        body = match.group("body")
        if body is None:
            problems.append("'${' is not closed; write ${NAME}, or $${ for a literal '${'")
            return token
        parsed = _BODY.match(body)
        if parsed is None:
            problems.append(f"bad variable reference '{token}'; write ${{NAME}} or "
                            "${NAME:-default} (NAME: letters, digits, '_')")
            return token
        name, default = parsed.group("name"), parsed.group("default")
        value = env.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            problems.append(f"environment variable {name} is not set; export it or write "
                            f"${{{name}:-default}}")
            return token
        return value

    return _TOKEN.sub(replace, text), problems
