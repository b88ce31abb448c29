# The two commands a newcomer needs: `make run` (the product with a demo tenant) and `make test`.
# Every target installs what it needs first; each install step is idempotent and quick when done.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := debootstrap iproute2 util-linux postgresql sox
# The browser tests drive Debian's Chromium (never a downloaded browser).
TEST_APT_PACKAGES := chromium
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha256sum | cut -c1-12)
WEB := phonebar/web
WEB_STAMP := $(WEB)/node_modules/.installed-$(shell cat $(WEB)/package-lock.json | sha256sum | cut -c1-12)

.PHONY: run test lint bench install system-packages test-packages apt venv asterisk web clean

run: install
	$(BIN)/phones run --demo

test: install test-packages
	scripts/in-test-netns $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(WEB) && npm run --silent check

bench: install
	scripts/in-test-netns $(BIN)/python bench/router.py
	scripts/in-test-netns $(BIN)/python bench/routed_calls.py
	scripts/in-test-netns $(BIN)/python bench/hub.py --sessions 100 --duration 10

install: system-packages venv asterisk web

system-packages:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt PACKAGES="nodejs npm"

test-packages:
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_APT_PACKAGES)"

apt:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "[phones] installing Debian packages:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(STAMP)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

asterisk: venv
	$(BIN)/phones asterisk bootstrap

# The PhoneBar: npm packages when the lock file changed, then an esbuild bundle (under a second).
web: $(WEB_STAMP)
	cd $(WEB) && npm run --silent build

$(WEB_STAMP): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(WEB)/node_modules/.installed-* && touch $@

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache $(WEB)/node_modules $(WEB)/dist
