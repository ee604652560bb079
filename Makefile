# libraryops: the only entry points a Technology Manager needs. `make help` lists them.
#   SITE=<name>   the site under inventories/ (default lab; `example` is documentation only)
#   LIMIT=<x>     a host or group name, for targets that contact hosts
SHELL := /bin/bash
.DEFAULT_GOAL := help

SITE ?= lab
LIMIT ?=
ALLOW_DELETE ?=
INVENTORY ?=
# Every variable a user may set is checked here, before any recipe runs, on its text as typed
# ($(value ...): a command-line value is never expanded first), against the characters it may
# hold; recipes then quote it as well. A value such as SITE='x;echo INJECTED' stops make here.
_LOWER := a b c d e f g h i j k l m n o p q r s t u v w x y z
_UPPER := A B C D E F G H I J K L M N O P Q R S T U V W X Y Z
_DIGITS := 0 1 2 3 4 5 6 7 8 9
# $(call _strip,<text>,<characters>): <text> without those characters (empty: nothing else).
_strip = $(if $(2),$(call _strip,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,999,$(2))),$(1))
# $(call _check,<variable>,<characters>,<allowed text>,<may be empty>)
_check = $(if $(or $(findstring $(_SPACE),$(value $(1))),$(call _strip,$(value $(1)),$(2)),\
	$(if $(4),,$(if $(value $(1)),,empty))),$(error $(1)=$(value $(1)): not allowed \
	(allowed: $(3))))
_EMPTY :=
_SPACE := $(_EMPTY) $(_EMPTY)
_COMMA := ,
$(call _check,SITE,$(_LOWER) $(_DIGITS) - _,a site name under inventories/: a-z 0-9 - _)
$(call _check,LIMIT,$(_LOWER) $(_UPPER) $(_DIGITS) - _ . : & ! * $(_COMMA),\
	host or group names (A-Z a-z 0-9 - _ .) joined by : & ! * $(_COMMA),1)
$(call _check,INVENTORY,$(_LOWER) $(_UPPER) $(_DIGITS) - _ . /,a directory path: A-Z a-z 0-9 - _ . /,1)
$(call _check,NOW,$(_DIGITS) - : T Z + .,an ISO 8601 instant such as 2026-12-07T12:00:00Z,1)
$(call _check,YEAR,$(_DIGITS),a year such as 2027,1)
$(call _check,BATCH,$(_DIGITS) %,a number or a percentage,1)
$(call _check,ROLE,$(_LOWER) $(_DIGITS) _,a role name: a-z 0-9 _,1)
$(call _check,REPEAT,$(_DIGITS),a number,1)
$(call _check,BUDGET,$(_DIGITS),a number of minutes,1)
$(foreach v,FORCE ALLOW_DELETE CHANGES_OK NOOP_ONLY EXPECT_NO_CHANGES,$(call _check,$(v),1,1 or nothing,1))
VENV := .venv
PY := $(VENV)/bin/python
# requirements.txt installs the project itself too (-e .), so its pyproject.toml counts.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
APT_PACKAGES := mmdebstrap systemd-container nftables openssh-client nginx-light cups-ipp-utils dbus-daemon \
                faketime wireless-regdb \
                chromium
# NOW=<ISO 8601 instant with offset> runs the controller "as of" that instant (libraryops.clock):
# the hours table, the open-hours guard, apply's deferrals and the tests' expectations.
ifdef NOW
export LIBRARYOPS_NOW := $(NOW)
endif
# The open-hours guard (libraryops.guard) in front of every disruptive target: exit 1 while a
# branch of LIMIT is open, unless FORCE=1.
GUARD = $(PY) -m libraryops.guard --site-dir 'inventories/$(SITE)' --limit '$(LIMIT)' \
        $(if $(filter 1,$(FORCE)),--force)
ADHOC = ANSIBLE_VAULT_PASSWORD_FILE=$${ANSIBLE_VAULT_PASSWORD_FILE:-'$(wildcard $(CURDIR)/inventories/$(SITE)/vault-password.txt)'} \
        $(VENV)/bin/ansible -i 'inventories/$(SITE)/hosts.yml'
AZURE = --site '$(SITE)' $(if $(INVENTORY),--inventory '$(INVENTORY)')
PIPELINE = $(PY) -m libraryops.pipeline --site '$(SITE)' $(if $(INVENTORY),--inventory '$(INVENTORY)') \
           $(if $(LIMIT),--limit '$(LIMIT)')

.PHONY: help deps validate lab-keys lab-up lab-down lab-status bootstrap converge plan apply \
        verify lab azure-plan azure-apply azure-drift hours closures nightly-schedule reboot poweroff logout lint unit integration \
        molecule test clean role-docs

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: $(STAMP) ## Install the venv (requirements.txt) and the lab's Debian packages; quick when done
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

validate: deps ## Check the whole site (SITE=...) before anything is contacted
	@$(if $(filter lab,$(SITE)),$(PY) -m libraryops.lab keys --site-dir inventories/lab >/dev/null &&) $(PIPELINE) validate

lab-keys: deps ## Generate the lab's SSH key pair (never committed) if it is missing
	@$(PY) -m libraryops.lab keys --site-dir inventories/lab

lab-up: lab-keys ## Start the lab hosts, bridge, package cache, catalog page and printer (idempotent)
	@$(PY) -m libraryops.lab up --site-dir inventories/lab

lab-down: deps ## Remove every lab host, mount, cgroup, bridge, nft table and printer the lab made
	@$(PY) -m libraryops.lab down --site-dir inventories/lab

lab-status: deps ## One line per lab host: address, running, systemd state
	@$(PY) -m libraryops.lab status --site-dir inventories/lab

bootstrap: validate ## First contact: create the management accounts as root (LIMIT=new host)
	@$(PIPELINE) bootstrap

converge: validate ## Apply Ansible (site.yml) then pyinfra (public PCs) to SITE [LIMIT]
	@$(PIPELINE) converge

plan: validate ## Preview what a merge would change (reports/SITE/plan/); CHANGES_OK=1: changes exit 0
	@$(PIPELINE) plan; rc=$$?; \
	if [ $$rc -eq 2 ] && [ "$(CHANGES_OK)" = 1 ]; then exit 0; fi; exit $$rc

apply: validate ## Roll out: baseline, staff, wireless, public PCs canary-first, Azure [LIMIT]
	@$(PIPELINE) apply $(if $(filter 1,$(FORCE)),--force) $(if $(BATCH),--batch '$(BATCH)')

verify: deps ## Check SITE against the inventory; HTML + JUnit in reports/verify-SITE-*
	@$(PIPELINE) verify

lab: lab-keys ## The main job: validate, lab up, bootstrap, converge, verify, per-host summary
	@$(PIPELINE) lab $(if $(EXPECT_NO_CHANGES),--expect-no-changes)

azure-plan: validate ## Azure: what apply would change (exit 2 = changes; JSON in reports/SITE)
	@$(PY) azure/plan.py $(AZURE)

azure-apply: validate ## Azure: converge SITE to azure.yml (deletes only with ALLOW_DELETE=1)
	@ALLOW_DELETE=$(ALLOW_DELETE) $(PY) azure/apply.py $(AZURE)

azure-drift: validate ## Azure: read-only; non-zero when Azure differs from azure.yml
	@$(PY) azure/drift.py $(AZURE)

hours: deps ## Per branch: today's hours, open now?, next wake/shutdown/patch/Wi-Fi (SITE=, NOW=)
	@$(PY) -m libraryops.hours_table table --site-dir 'inventories/$(SITE)'

nightly-schedule: deps ## Derive the nightly check's cron lines from SITE's hours into nightly.yml
	@$(PY) -m libraryops.nightly --site-dir 'inventories/$(SITE)' --write .github/workflows/nightly.yml

closures: deps ## Suggest next year's public holidays as closures to review and paste (YEAR=)
	@$(PY) -m libraryops.hours_table suggest-closures --site-dir 'inventories/$(SITE)' \
	  $(if $(YEAR),--year '$(YEAR)')

reboot: validate ## Reboot LIMIT= (branch, group or host); refused in opening hours unless FORCE=1
	@$(GUARD)
	@$(ADHOC) '$(LIMIT)' -m ansible.builtin.command -a 'systemctl reboot' -B 30 -P 0

poweroff: validate ## Power off LIMIT=; refused in opening hours unless FORCE=1
	@$(GUARD)
	@$(ADHOC) '$(LIMIT)' -m ansible.builtin.command -a 'systemctl poweroff' -B 30 -P 0

logout: validate ## End patron sessions on LIMIT='s public PCs; refused in opening hours unless FORCE=1
	@$(GUARD)
	@$(ADHOC) '$(LIMIT):&public_pcs' -m ansible.builtin.shell \
	  -a 'loginctl show-user {{ public_pc__patron_user | quote }} >/dev/null 2>&1 || exit 0; loginctl terminate-user {{ public_pc__patron_user | quote }}'

# Each role's meta/argument_specs.yml is its one contract (type, default, description); its
# defaults/main.yml and README variables table are written from it (tools/role_contract.py), and a
# unit test names any role and key that disagree.
role-docs: deps ## Write each role's defaults/main.yml and README variables table from argument_specs
	@$(PY) -m tools.role_contract

# The hooks of .pre-commit-config.yaml (all local, offline) on every file git tracks or would
# add, so a new file with a plaintext secret fails before it is ever staged.
lint: deps ## pre-commit hooks: ruff, yamllint, ansible-lint, workflow schema, secret scans
	@git ls-files -z --cached --others --exclude-standard | \
	  PATH=$(CURDIR)/$(VENV)/bin:$$PATH PRE_COMMIT_HOME=$(CURDIR)/$(VENV)/pre-commit \
	  xargs -0 $(VENV)/bin/pre-commit run --files

unit: deps ## Unit tests: no hosts, seconds
	$(VENV)/bin/pytest tests/unit -q -p no:cacheprovider

integration: lab-keys ## The lab end to end: two converges (zero changes), privacy, idle logout
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/pytest tests/integration -q -s -p no:cacheprovider

# The light roles' scenarios (roles/<role>/molecule/default), each on throwaway lab hosts of its
# own; the heavy staff_workstation is verified by the lab integration instead.
MOLECULE_ROLES := accounts sshd firewall updates timesync common
molecule: lab-keys ## Molecule on throwaway lab hosts: ROLE=<role>, else every light role
	@for role in $(or $(ROLE),$(MOLECULE_ROLES)); do \
	  echo "==> molecule $$role"; \
	  (cd roles/$$role && PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(CURDIR)/$(VENV)/bin/molecule test) || exit 1; \
	done

# The benchmark (tools/bench/, docs/performance.md): throwaway bench hosts of its own on
# the lab bridge, removed at the end. Not a test: it asserts no timing.
#   N="2 5 10"  host counts   REPEAT=3  runs per phase   NOOP_ONLY=1  the no-op phases only
#   BUDGET=<minutes>  repetitions that would overrun it are skipped (default 19; 0: no limit)
N ?= 2 5 10
REPEAT ?= 3
NOOP_ONLY ?=
BUDGET ?=
.PHONY: bench bench-smoke
bench: lab-keys ## Speed of converge/verify, pyinfra vs Ansible, N hosts (N="2 5 10" REPEAT=3)
	@$(PY) -m tools.bench --hosts '$(N)' --repeat '$(REPEAT)' $(if $(filter 1,$(NOOP_ONLY)),--noop-only) \
	  $(if $(BUDGET),--budget-minutes '$(BUDGET)')

bench-smoke: lab-keys ## The bench's no-op phases on 2 hosts, once (a quick check that it runs)
	@$(PY) -m tools.bench --hosts 2 --repeat 1 --noop-only

test: lint unit integration molecule ## Everything CI runs: lint, unit tests, lab integration, molecule

clean: ## Remove reports (the lab itself: make lab-down)
	rm -rf reports
