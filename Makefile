# One entry point for everything; `make test` is what CI runs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck demo bench bench-deps corpus clean server-deps browser-deps

$(STAMP): pyproject.toml
	@$(PY) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "python3-venv missing: installing it"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

install: $(STAMP)

# mariadbd is needed by the tests and the demo (throwaway local servers);
# pt-online-schema-change (Debian's percona-toolkit) runs apply's online path;
# sshd (openssh-server) is started by the SSH tunnel tests.
server-deps:
	@command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || { \
	  echo "mariadbd missing: installing mariadb-server"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null; }
	@command -v pt-online-schema-change >/dev/null 2>&1 || { \
	  echo "pt-online-schema-change missing: installing percona-toolkit"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq percona-toolkit >/dev/null; }
	@[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1 || { \
	  echo "sshd missing: installing openssh-server (the SSH tunnel tests start their own)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null; }

# Headless Chromium renders the HTML report in tests/test_report_html.py.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "chromium missing: installing it (the HTML report test renders in it)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: install server-deps browser-deps lint
	$(BIN)/pytest -q tests

demo: install server-deps
	$(BIN)/myshift demo

# The peers the benchmarks compare against (Debian packages).
bench-deps:
	@command -v mysql-schema-diff >/dev/null 2>&1 && command -v mydumper >/dev/null 2>&1 || { \
	  echo "installing benchmark peers: libmysql-diff-perl mydumper"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmysql-diff-perl mydumper >/dev/null; }

# Byte-compile first: with PYTHONDONTWRITEBYTECODE set (as on some CI hosts)
# every myshift start would otherwise re-compile its modules (~40 ms).
# Arguments for bench/run.py: `make bench ONLY=partition` or `make bench BENCH_ARGS="--only live --rows 300000"`.
ONLY ?=
BENCH_ARGS ?=
bench: install server-deps bench-deps
	$(BIN)/python -m compileall -q src
	$(BIN)/python bench/run.py $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
