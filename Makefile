# libraryops: the only entry points a Technology Manager needs. `make help` lists them.
#   SITE=<name>   the site under inventories/ (default lab; `example` is documentation only)
#   LIMIT=<x>     a host or group name, for targets that contact hosts
#   TAGS=<a,b>    make converge: only these roles of site.yml (public_pc: the pyinfra deploy)
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
_PATH_CHARS := $(_LOWER) $(_UPPER) $(_DIGITS) - _ . /
$(foreach v,LOCATIONS SERVICE_TAGS,$(call _check,$(v),$(_PATH_CHARS),a file path: A-Z a-z 0-9 - _ . /,1))
$(call _check,CLOUD,$(_UPPER) _,an Azure cloud: AZURE_PUBLIC_CLOUD AZURE_US_GOVERNMENT AZURE_CHINA_CLOUD,1)
$(call _check,NOW,$(_DIGITS) - : T Z + .,an ISO 8601 instant such as 2026-12-07T12:00:00Z,1)
$(call _check,YEAR,$(_DIGITS),a year such as 2027,1)
$(call _check,BATCH,$(_DIGITS) %,a number or a percentage,1)
$(call _check,ROLE,$(_LOWER) $(_DIGITS) _,a role name: a-z 0-9 _,1)
$(call _check,TAGS,$(_LOWER) $(_DIGITS) _ $(_COMMA),role names (a-z 0-9 _) joined by $(_COMMA),1)
$(call _check,REPEAT,$(_DIGITS),a number,1)
# N is a list (host counts separated by spaces or commas): checked without its spaces.
$(if $(call _strip,$(subst $(_SPACE),,$(value N)),$(_DIGITS) $(_COMMA)),$(error N=$(value N): \
	not allowed (allowed: host counts separated by spaces or commas, e.g. N="2 5 10")))
$(call _check,BUDGET,$(_DIGITS),a number of minutes,1)
$(call _check,RELEASE,$(_LOWER),a Debian release name: bookworm or trixie,1)
$(foreach v,FORCE ALLOW_DELETE CHANGES_OK NOOP_ONLY EXPECT_NO_CHANGES PENDING_OK,$(call _check,$(v),1,1 or nothing,1))
VENV := .venv
PY := $(VENV)/bin/python
# requirements.txt installs the project itself too (-e .), so its pyproject.toml counts.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
# Debian packages by kind of target (`make doctor` lists every prerequisite): what `make validate`
# reads (wireless-regdb: which channels an access point may use in its country) and what
# `make assets` reads (distro-info-data: Debian's release dates; the README's first install line
# has both), the lab's programs,
# what the unit tests ask on the controller (systemd-analyze is systemd's; libfaketime replays a
# timer's condition as of any instant; ssh-keygen makes test keys), and what only the lab
# integration adds (chromium renders the delivery report). The controller targets (validate,
# hours, plan, apply) need none of them.
CONTROLLER_PACKAGES := wireless-regdb distro-info-data
LAB_PACKAGES := mmdebstrap systemd-container nftables openssh-client nginx-light cups-ipp-utils \
                dbus-daemon iproute2
UNIT_PACKAGES := faketime openssh-client
TEST_PACKAGES := chromium
# Services Debian enables and starts when their package is installed, while the lab runs its own
# instance of the program on the bridge address (nginx.service would hold port 80 everywhere).
LAB_SERVICES_OFF := nginx.service
DOCTOR := python3 -m libraryops.doctor
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
           $(if $(LIMIT),--limit '$(LIMIT)') $(if $(TAGS),--tags '$(TAGS)')

.PHONY: help deps deps-lab deps-unit deps-test lab-ready doctor validate lab-keys lab-up lab-down \
        lab-status bootstrap converge catch-up catch-up-schedule catch-up-timer plan apply verify \
        lab azure-plan azure-apply azure-drift azure-lists hours closures nightly-schedule reboot poweroff \
        logout lint unit integration molecule stock stock-down stock-check test clean role-docs

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: $(STAMP) ## Install the venv from requirements.txt (no root, no Debian packages); quick when done

deps-lab: deps ## As root: the lab's Debian packages, their services left off (run by lab targets)
	@[ "$$(id -u)" = 0 ] || { echo "deps-lab: missing root: run the lab targets as root" >&2; exit 1; }
	@$(call apt_install,$(CONTROLLER_PACKAGES) $(LAB_PACKAGES),$(LAB_SERVICES_OFF))
	@$(DOCTOR) --for controller --quiet

# Every target that starts lab hosts checks the lab's prerequisites first and stops with the
# doctor's one-line reasons (lab-down and lab-status do not: they must work whatever is wrong).
lab-ready: deps-lab
	@$(DOCTOR) --for lab --quiet

deps-unit: deps ## What the unit tests ask on this machine (faketime, ssh-keygen): root installs
	@if [ "$$(id -u)" = 0 ]; then $(call apt_install,$(CONTROLLER_PACKAGES) $(UNIT_PACKAGES),); fi
	@$(DOCTOR) --for controller --for unit --quiet

deps-test: deps-lab deps-unit ## As root: deps-lab plus what the lab integration adds (chromium)
	@$(call apt_install,$(TEST_PACKAGES),)

doctor: ## Every prerequisite of every kind of target: ok / missing, with the fix (no root needed)
	@$(DOCTOR)

# $(call apt_install,packages,services): install the missing packages under a policy-rc.d that
# lets no service start (invoke-rc.d(8)), then disable the named services if this step
# installed them and systemd runs (a package's postinst enables them for the next boot).
define apt_install
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
if [ -n "$$missing" ]; then \
  echo "deps: installing Debian packages: $$missing"; \
  own_policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then own_policy=1; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d; fi; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
  rc=$$?; [ -z "$$own_policy" ] || rm -f /usr/sbin/policy-rc.d; [ $$rc = 0 ] || exit $$rc; \
  if [ -d /run/systemd/system ] && [ -n "$(2)" ]; then systemctl disable --now --quiet $(2) 2>/dev/null || true; fi; \
fi
endef

# As root (a fresh CI machine, the first run on a new laptop) the controller's one Debian
# package is installed here; otherwise the doctor names it and the command that installs it.
$(STAMP): requirements.txt pyproject.toml
	@if [ "$$(id -u)" = 0 ]; then $(call apt_install,$(CONTROLLER_PACKAGES),); fi
	@$(DOCTOR) --for controller --quiet
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

validate: deps ## Check the whole site (SITE=...) before anything is contacted
	@$(if $(filter lab,$(SITE)),$(PY) -m libraryops.lab keys --site-dir inventories/lab >/dev/null &&) $(PIPELINE) validate

lab-keys: deps-lab ## Generate the lab's SSH key pair (never committed) if it is missing
	@$(PY) -m libraryops.lab keys --site-dir inventories/lab

lab-up: lab-ready lab-keys ## Start the lab hosts, bridge, package cache, catalog page and printer (idempotent)
	@$(PY) -m libraryops.lab up --site-dir inventories/lab

lab-down: deps-lab ## Remove every lab host, mount, cgroup, bridge, nft table and printer the lab made
	@$(PY) -m libraryops.lab down --site-dir inventories/lab

lab-status: deps-lab ## One line per lab host: address, running, systemd state
	@$(PY) -m libraryops.lab status --site-dir inventories/lab

bootstrap: deps ## First contact: create the management accounts as root (LIMIT=new host)
	@$(PIPELINE) bootstrap

# A run whose hosts not converged are all pending (off as scheduled, deferred by opening hours:
# a catch-up run brings them) exits 3; PENDING_OK=1 makes that 0.
PENDING_RC = rc=$$?; if [ $$rc -eq 3 ] && [ "$(PENDING_OK)" = 1 ]; then exit 0; fi; exit $$rc
converge: deps ## Apply Ansible (site.yml) then pyinfra (public PCs) to SITE [LIMIT] [TAGS=sshd,...]; PENDING_OK=1
	@$(PIPELINE) converge; $(PENDING_RC)

catch-up: deps ## Converge exactly the hosts behind the current commit (scheduled; PENDING_OK=1)
	@$(PIPELINE) catch-up $(if $(filter 1,$(FORCE)),--force); $(PENDING_RC)

catch-up-schedule: deps ## Derive the catch-up workflow's cron lines from SITE's hours
	@$(PY) -m libraryops.cron --site-dir 'inventories/$(SITE)' --workflow catch-up --write

catch-up-timer: deps ## On the runner (root, systemd): install the catch-up timer for SITE
	@$(PY) -m libraryops.catchup units --site-dir 'inventories/$(SITE)' --install

plan: deps ## Preview what a merge would change (reports/SITE/plan/); CHANGES_OK=1: changes exit 0
	@$(PIPELINE) plan; rc=$$?; \
	if [ $$rc -eq 2 ] && [ "$(CHANGES_OK)" = 1 ]; then exit 0; fi; exit $$rc

apply: deps ## Roll out: baseline, staff, wireless, public PCs canary-first, Azure [LIMIT]
	@$(PIPELINE) apply $(if $(filter 1,$(FORCE)),--force) $(if $(BATCH),--batch '$(BATCH)'); \
	  $(PENDING_RC)

verify: deps ## Check SITE against the inventory; HTML + JUnit in reports/verify-SITE-*
	@$(PIPELINE) verify

assets: deps ## Asset register from the hosts (read-only) + replacement forecast in reports/SITE/assets/
	@$(PIPELINE) assets

lab: lab-ready lab-keys ## The main job: validate, lab up, bootstrap, converge, verify, per-host summary
	@$(PIPELINE) lab $(if $(EXPECT_NO_CHANGES),--expect-no-changes)

azure-plan: validate ## Azure: what apply would change (exit 2 = changes; JSON in reports/SITE)
	@$(PY) azure/plan.py $(AZURE)

azure-apply: validate ## Azure: converge SITE to azure.yml (deletes only with ALLOW_DELETE=1)
	@ALLOW_DELETE=$(ALLOW_DELETE) $(PY) azure/apply.py $(AZURE)

azure-drift: validate ## Azure: read-only; non-zero when Azure differs from azure.yml
	@$(PY) azure/drift.py $(AZURE)

# Regions and service tags make validate knows (libraryops/data/azure_*.json), from files Azure
# gives: `az account list-locations -o json`, the weekly "Azure IP Ranges and Service Tags" JSON
# (or `az network list-service-tags -o json`). Commit the rewritten files.
azure-lists: deps ## Azure: refresh known regions/service tags (LOCATIONS=, SERVICE_TAGS=, CLOUD=)
	@$(PY) -m libraryops.cloud.refresh_lists $(if $(LOCATIONS),--locations '$(LOCATIONS)') \
	  $(if $(CLOUD),--cloud '$(CLOUD)') $(if $(SERVICE_TAGS),--service-tags '$(SERVICE_TAGS)')

hours: deps ## Per branch: today's hours, open now?, next wake/shutdown/patch/Wi-Fi (SITE=, NOW=)
	@$(PY) -m libraryops.hours_table table --site-dir 'inventories/$(SITE)'

nightly-schedule: deps ## Derive the nightly check's cron lines from SITE's hours into nightly.yml
	@$(PY) -m libraryops.cron --site-dir 'inventories/$(SITE)' --workflow nightly --write

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

unit: deps-unit ## Unit tests: no hosts, seconds
	$(VENV)/bin/pytest tests/unit -q -p no:cacheprovider

integration: deps-test lab-ready lab-keys ## The lab end to end: two converges (zero changes), privacy, idle logout
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/pytest tests/integration -q -s -p no:cacheprovider --durations=0

# The light roles' scenarios (roles/<role>/molecule/default), each on throwaway lab hosts of its
# own; the heavy staff_workstation is verified by the lab integration instead.
MOLECULE_ROLES := accounts sshd firewall updates timesync common
molecule: lab-ready lab-keys ## Molecule on throwaway lab hosts: ROLE=<role>, else every light role
	@for role in $(or $(ROLE),$(MOLECULE_ROLES)); do \
	  echo "==> molecule $$role"; \
	  (cd roles/$$role && PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(CURDIR)/$(VENV)/bin/molecule test) || exit 1; \
	done

# The benchmark (tools/bench/, docs/performance.md): throwaway bench hosts of its own on
# the lab bridge, removed at the end. Not a test: it asserts no timing.
#   N="2 5 10"  host counts   REPEAT=3  runs per phase   NOOP_ONLY=1  the no-op phases only
#   BUDGET=<minutes>  repetitions that would overrun it are skipped (default 35; 0: no limit)
N ?= 2 5 10
REPEAT ?= 3
NOOP_ONLY ?=
BUDGET ?=
.PHONY: bench bench-smoke
bench: lab-ready lab-keys ## Speed of converge/verify, pyinfra vs Ansible, N hosts (N="2 5 10" REPEAT=3)
	@$(PY) -m tools.bench --hosts '$(N)' --repeat '$(REPEAT)' $(if $(filter 1,$(NOOP_ONLY)),--noop-only) \
	  $(if $(BUDGET),--budget-minutes '$(BUDGET)')

bench-smoke: lab-ready lab-keys ## The bench's no-op phases on 2 hosts, once (a quick check that it runs)
	@$(PY) -m tools.bench --hosts 2 --repeat 1 --noop-only

# The stock-machine path (libraryops/lab/stockbox.py): fresh Debian 12 and 13 boxes with systemd
# as PID 1 and cgroup v2 only, so the lab's systemd path is proved here too (development and CI
# machines have no systemd). `stock` is the affordable part of `make test`; `stock-check` is the
# full one (a fresh clone passes `make lab` twice and the lab integration in each box).
stock: deps-lab ## Stock Debian 12 + 13 boxes: non-root validate, deps-lab, lab on systemd, lab-down
	$(VENV)/bin/pytest tests/stock/test_stock_machine.py -q -p no:cacheprovider

stock-down: deps ## Remove every stock-machine box, the boxes' bridge and their package cache
	@$(PY) -m libraryops.lab.stockbox down

stock-check: deps-lab ## Full stock check: in each box `make lab` twice (zero changes) + integration
	@$(PY) -m libraryops.lab.stockbox check $(if $(RELEASE),--release '$(RELEASE)')

test: lint unit integration molecule stock ## Everything CI runs: lint, unit, lab integration, molecule, stock boxes

clean: ## Remove reports (the lab itself: make lab-down)
	rm -rf reports
