# The two commands of the README: `make demo` and `make test`. Everything else is a step of theirs.
PY ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-local test demo bench-overhead clean

# System packages: bubblewrap (the sandbox's jail), git, python3-venv (Debian's Python has no venv without it)
# and a C/C++ compiler (llama-cpp-python compiles from source). Debian/Ubuntu; elsewhere greenloop falls back
# to the 'process' sandbox and says so.
$(VENV)/.system:
	@if command -v apt-get >/dev/null 2>&1 && ! (command -v bwrap >/dev/null && command -v git >/dev/null \
			&& command -v c++ >/dev/null && $(PY) -c 'import ensurepip' 2>/dev/null); then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq bubblewrap git python3-venv build-essential; fi
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.system pyproject.toml
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# llama-cpp-python compiles from source the first time (about 9 minutes on 2 cores); pip caches the wheel.
# It builds for this CPU (-march=native) but without Intel AMX: on a host whose CPU reports AMX and whose
# kernel or hypervisor does not grant it, the AMX kernels fault on the first token (a segmentation fault in
# libggml-cpu, seen on 2026-12-05). The flags are kept only if the compiler knows them.
NO_AMX := $(shell echo 'int main(void){return 0;}' | $${CC:-cc} -mno-amx-tile -mno-amx-int8 -mno-amx-bf16 -x c - \
	-o /dev/null 2>/dev/null && echo -mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
$(VENV)/.local: $(VENV)/.installed
	CFLAGS="$(NO_AMX) $$CFLAGS" CXXFLAGS="$(NO_AMX) $$CXXFLAGS" $(VENV)/bin/pip install -q -e '.[dev,local]'
	touch $@

setup-local: $(VENV)/.local

test: setup
	$(VENV)/bin/python -m pytest

demo: setup-local
	$(VENV)/bin/python scripts/demo.py

bench-overhead: setup
	$(VENV)/bin/python benchmarks/sandbox_overhead.py

clean:
	rm -rf $(VENV) demo-repo demo-server.log
