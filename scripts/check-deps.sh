#!/usr/bin/env bash
# `pip check` for the venv given as $1, except for the wheels installed on purpose without
# their dependencies (analytics/models/requirements-nodeps.txt: model files, never imported).
# Fails when the lock lacks something pyproject.toml or a locked package requires.
set -euo pipefail
venv=$1
nodeps=$(grep -oE '^[A-Za-z0-9_.-]+==' analytics/models/requirements-nodeps.txt | sed 's/==$//')
out=$("$venv/bin/python" -m pip check --disable-pip-version-check 2>&1 || true)
for name in $nodeps; do
  out=$(printf '%s\n' "$out" | grep -v -i "^$name " || true)
done
out=$(printf '%s\n' "$out" | grep -v -e '^No broken requirements found' -e '^$' || true)
if [ -n "$out" ]; then
  printf 'the lock file and the code disagree (run `make lock`, then `make test`):\n%s\n' "$out" >&2
  exit 1
fi
