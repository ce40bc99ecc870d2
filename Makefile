# Learners: `make lab`. Instructors: `make release`, `make instructor`. Everyone: `make test`.
# Each target builds .venv itself on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed

.PHONY: lab instructor nbgrader-extension test release bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Jupyter refuses to run as root (containers, cloud shells) unless told.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# Both labs: .venv first on PATH (kernels, terminals, nbgrader's alembic); a role's settings
# from jupyter/<role> and jupyter/common (see jupyter/README.md).
LAB = PATH="$(BIN):$$PATH" JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/$(1):$(CURDIR)/jupyter/common" $(BIN)/jupyter lab $(ALLOW_ROOT)

nbgrader-extension: $(STAMP)
	@$(BIN)/jupyter labextension list 2>&1 | grep '@jupyter/nbgrader' | grep -qv disabled \
	  || { echo "nbgrader's JupyterLab extension is missing or disabled: run 'make clean lab'" >&2; exit 1; }

# The learner's lab serves workspace/, their own copy of the course: made from course/ on
# first use, given new units and new releases (beside their notebook, if they changed it) on
# every start; `make release` never touches it. The terminal opens there, so a notebook's
# `gradelib check <unit>/<unit>.ipynb` works as printed.
lab: nbgrader-extension
	$(BIN)/gradelib workspace
	cd workspace && $(call LAB,learner) --ServerApp.root_dir="$(CURDIR)/workspace"

# The instructor's lab: the repo root, with nbgrader's formgrader on the class gradebook that
# `gradelib grade --submissions submitted/ --out grading-out/` writes (nbgrader_config.py).
instructor: nbgrader-extension
	$(call LAB,instructor) --ServerApp.root_dir="$(CURDIR)"

test: $(STAMP)
	$(BIN)/python -m pytest

release: $(STAMP)
	$(BIN)/gradelib release

# The benchmarks compare against PyTorch's CPU build (torch 2.13.0, the `bench` extra). PyPI's
# torch for Linux is the CUDA build (several GB); PyTorch's own index has the CPU wheel:
#   make bench TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Without TORCH_INDEX, pip takes torch from the indexes it is configured with (on the
# project's build machines, a local index that serves the CPU wheel).
TORCH_INDEX ?=
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -e '.[test,bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
