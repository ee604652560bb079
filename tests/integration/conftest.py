"""Order of the lab integration suite: converge the lab first, take it down last.

Every other test here needs a converged lab (tests/integration/test_lab.py runs `make lab`
twice); test_catch_up.py leaves the hosts recording test commits (it runs after the others);
test_lab_down.py checks that `make lab-down` leaves nothing behind.
"""

FIRST = "test_lab.py"
LATE = "test_catch_up.py"
LAST = "test_lab_down.py"


def pytest_collection_modifyitems(items):
    """Run test_lab.py's tests first, test_catch_up.py's after the rest, test_lab_down.py's
    last (the order within a file is kept: sort is stable)."""
    ranks = {FIRST: 0, LATE: 2, LAST: 3}
    items.sort(key=lambda item: ranks.get(item.path.name, 1))
