"""Order of the lab integration suite: converge the lab first, take it down last.

Every other test here needs a converged lab (tests/integration/test_lab.py runs `make lab`
twice); test_lab_down.py checks that `make lab-down` leaves nothing behind.
"""

FIRST = "test_lab.py"
LAST = "test_lab_down.py"


def pytest_collection_modifyitems(items):
    """Run test_lab.py's tests first and test_lab_down.py's last, the rest in between."""
    def rank(item):
        name = item.path.name
        return 0 if name == FIRST else 2 if name == LAST else 1

    items.sort(key=rank)
