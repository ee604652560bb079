"""`make verify` on a real site changes nothing: every testinfra test that changes a host's state
(switching Wi-Fi, starting power services, printing, opening a listener) is named
``test_lab_only_*`` and takes the ``lab_only`` fixture, which skips it on hosts that are not
throwaway lab hosts; no other test takes that fixture."""

import ast

import pytest

from libraryops import paths

SUITES = sorted((paths.REPO / "tests" / "testinfra").glob("test_*.py"))


def _tests(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_lab_only_tests_are_named_so_and_take_the_fixture(suite):
    for test in _tests(suite):
        arguments = {a.arg for a in test.args.args}
        assert test.name.startswith("test_lab_only_") == ("lab_only" in arguments), test.name


def test_the_state_changing_probes_are_lab_only():
    names = {t.name for suite in SUITES for t in _tests(suite)}
    lab_only = {n for n in names if n.startswith("test_lab_only_")}
    assert {"test_lab_only_the_timers_services_switch_as_the_plan_says_and_only_then",
            "test_lab_only_the_shutdown_service_acts_when_the_plan_says_and_only_then",
            "test_lab_only_staff_queues_point_at_the_inventory_printers_and_print"} <= lab_only
