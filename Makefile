# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up on demand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime): from PATH, else the newest pyenv 3.13.
PYTHON313 ?= $(shell ls -d $$(pyenv root 2>/dev/null)/versions/3.13.*/bin/python 2>/dev/null | tail -1 || true)
ifeq ($(strip $(PYTHON313)),)
PYTHON313 := $(shell command -v python3.13)
endif

VENV := .venv
SAM_VENV := .venv-sam
LINT_VENV := .venv-lint
LAMBDA_VENV := .venv-lambda
PY := $(VENV)/bin/python
# The dev tools and the importer import the layer's code (key layout, parsers) as the functions do.
DEV_PY := PYTHONPATH=layers/common $(PY)
SAM := SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam
STATE := .local

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# A virtualenv of Python 3.13 ($(1)) with the pinned requirements of $(2) installed.
define make-venv
	@test -n "$(PYTHON313)" || { echo "Python 3.13 is needed (pyenv install 3.13)"; exit 1; }
	$(PYTHON313) -m venv $(1)
	$(1)/bin/pip install -q --upgrade pip
	$(1)/bin/pip install -q -r $(2)
	@touch $(1)/.installed
endef

$(VENV)/.installed: requirements/dev.txt requirements/runtime.txt layers/common/requirements.txt
	$(call make-venv,$(VENV),requirements/dev.txt)

# SAM CLI pins boto3 and pydantic exactly, and checkov pins its own: each gets a virtualenv of its own.
$(SAM_VENV)/.installed: requirements/sam.txt
	$(call make-venv,$(SAM_VENV),requirements/sam.txt)

$(LINT_VENV)/.installed: requirements/lint.txt
	$(call make-venv,$(LINT_VENV),requirements/lint.txt)

# A Python of boto3 alone, as the Lambda runtime has: `make invoke BUILT=1` runs the build in it.
$(LAMBDA_VENV)/.installed: requirements/lambda.txt
	$(call make-venv,$(LAMBDA_VENV),requirements/lambda.txt)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Chromium for the browser test of the local Swagger UI, from Debian's packages, tried once: when it
# cannot be installed, `make test` goes on and that test is skipped with the reason.
$(STATE)/chromium.checked: devtools/install-chromium.sh
	@mkdir -p $(STATE)
	@bash devtools/install-chromium.sh
	@touch $@

.PHONY: setup
setup: $(VENV)/.installed $(SAM_VENV)/.installed $(LINT_VENV)/.installed $(LAMBDA_VENV)/.installed node_modules/.installed ## create the virtualenvs and install DynamoDB Local

.PHONY: validate
validate: $(SAM_VENV)/.installed ## sam validate --lint
	$(SAM) validate --lint

# ruff on the Python code (the rules in pyproject.toml, the format checked, not rewritten), mypy on
# its types (pyproject.toml [tool.mypy]: it reads the packages the code imports from $(VENV), hence
# that dependency), then cfn-lint (the version SAM CLI brings) and checkov on the template: any finding
# fails, and every check the template skips says why, in the template. checkov reads the SAM resources
# themselves (AWS::Serverless::Function, ::Api); what SAM generates from them (roles, stage) is checked
# by tests/infrastructure/test_template_security.py.
.PHONY: lint
lint: validate $(LINT_VENV)/.installed $(VENV)/.installed ## lint: ruff (code and its format), mypy, sam validate --lint, cfn-lint, checkov
	$(LINT_VENV)/bin/ruff check .
	$(LINT_VENV)/bin/ruff format --check .
	$(LINT_VENV)/bin/mypy
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(LINT_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

# ARCH=x86_64 (or arm64): the same build for that architecture, in .aws-sam/<ARCH>/build, so that
# `make invoke BUILT=1` can run it on a machine of that architecture; .aws-sam/build stays the template's.
.PHONY: build
build: $(SAM_VENV)/.installed $(VENV)/.installed ## sam build (no container); ARCH=x86_64: for that architecture, in .aws-sam/x86_64/build
	$(if $(filter command line,$(origin ARCH)),$(DEV_PY) -m devtools.cli.build --architecture "$(ARCH)",$(SAM) build)

.PHONY: test
test: setup lint $(STATE)/chromium.checked ## set everything up and run the whole test suite
	$(PY) -m pytest

.PHONY: run
run: setup ## start the whole API locally (DynamoDB Local, token issuer, gateway and Swagger UI on :3000)
	$(DEV_PY) -m devtools.cli.run $(if $(CATALOG),--catalog "$(CATALOG)")

# Catalog sizes (songs) and requests per query shape for `make bench`; RECORD=1 also writes the
# report into docs/PERFORMANCE.md.
SIZES ?= 10000 50000
REPETITIONS ?= 3

.PHONY: bench
bench: $(VENV)/.installed node_modules/.installed ## measure read cost and latency of the query mix (SIZES="10000 50000")
	$(DEV_PY) -m devtools.bench --sizes $(SIZES) --repetitions $(REPETITIONS) $(if $(RECORD),--record)

# How long `make run` takes to be ready: first start, later start, REIMPORTS starts with CATALOG
# (default: the sample catalog); RECORD=1 also writes the report into docs/PERFORMANCE.md.
REIMPORTS ?= 5

.PHONY: startup
startup: setup ## time make run: first and later start, import and stream hand-over rates, re-imports (CATALOG=, REIMPORTS=5)
	$(DEV_PY) -m devtools.bench.startup --reimports $(REIMPORTS) $(if $(CATALOG),--catalog "$(CATALOG)") $(if $(RECORD),--record)

# Seconds of load per mix for `make load`; RECORD=1 also writes the report into docs/PERFORMANCE.md.
LOAD_SECONDS ?= 60

.PHONY: load
load: $(VENV)/.installed node_modules/.installed ## load test of the local stack from a second process (LOAD_SECONDS=60 per mix)
	$(DEV_PY) -m devtools.load --seconds $(LOAD_SECONDS) $(if $(RECORD),--record)

# One function's handler with an event file, in a new Python process as Lambda runs it, against the
# table of the running `make run`; BUILT=1 runs what `make build` produced, in $(LAMBDA_VENV).
.PHONY: invoke
invoke: $(VENV)/.installed $(if $(BUILT),$(LAMBDA_VENV)/.installed) ## run one function as Lambda would: FUNCTION=ListFunction EVENT=events/list.json [BUILT=1]
	@$(DEV_PY) -m devtools.cli.invoke "$(FUNCTION)" "$(EVENT)" $(if $(BUILT),--built)

.PHONY: token
token: $(VENV)/.installed ## print an access token for USER=<uuid> (needs `make run` running)
	@$(DEV_PY) -m devtools.cli.access_token $(if $(filter command line,$(origin USER)),--user "$(USER)")

.PHONY: clean
clean: ## remove local data, build output, reports and screenshots (not the environments)
	rm -rf $(STATE) .aws-sam .bench .pytest_cache .artifacts

.PHONY: openapi
openapi: $(VENV)/.installed ## regenerate docs/openapi.json from the code (routes, parameter declarations, models)
	$(DEV_PY) -m devtools.cli.openapi

# Requests the schemathesis run generates in its fuzzing phase, on top of about 1,000 from the examples and
# coverage phases (`make test` runs the same test with 5,000).
FUZZ_REQUESTS ?= 50000

.PHONY: fuzz
fuzz: setup ## fuzz the local API from docs/openapi.json with schemathesis (FUZZ_REQUESTS=50000)
	FUZZ_REQUESTS=$(FUZZ_REQUESTS) $(PY) -m pytest tests/e2e/test_fuzz.py -q
