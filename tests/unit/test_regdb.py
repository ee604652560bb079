"""The wireless-regdb reader (libraryops.regdb) against a database built by hand in the
documented format, and the installed one."""

import struct

import pytest

from libraryops import regdb


def _database(rules: list[tuple[int, int, int, int]]) -> bytes:
    """One country ``ZZ`` with ``rules`` (start kHz, end kHz, max bw kHz, flags)."""
    header = struct.pack(">II", regdb.MAGIC, regdb.VERSION)
    countries_len = 4 + 4
    rules_at = len(header) + countries_len
    body = b"".join(struct.pack(">BBHIII", 16, flags, 2000, start, end, bw)
                    for start, end, bw, flags in rules)
    coll_at = rules_at + len(body)
    coll = struct.pack(">BBBx", 3, len(rules), 0) + b"".join(
        struct.pack(">H", (rules_at + 16 * i) >> 2) for i in range(len(rules)))
    coll += b"\0\0" * (len(rules) % 2)
    return header + struct.pack(">2sH", b"ZZ", coll_at >> 2) + b"\0" * 4 + body + coll


def test_a_hand_built_database_reads_back():
    data = _database([(2402000, 2472000, 40000, 0), (5170000, 5250000, 80000, regdb.NO_IR)])
    rules = regdb.parse(data)["ZZ"]
    assert regdb.ap_may_use(rules, "2.4GHz", 11) and not regdb.ap_may_use(rules, "2.4GHz", 12)
    assert not regdb.ap_may_use(rules, "5GHz", 36)  # NO-IR: an AP may not start there


@pytest.mark.parametrize("data", [b"", b"RGDB", struct.pack(">II", regdb.MAGIC, 19),
                                  _database([(1, 2, 3, 0)])[:30]])
def test_a_malformed_database_is_a_clear_error(data):
    with pytest.raises(regdb.RegdbError):
        regdb.parse(data)


def test_the_installed_database_knows_channel_13_is_not_for_the_us():
    database = regdb.load()
    assert regdb.ap_may_use(database["DE"], "2.4GHz", 13)
    assert not regdb.ap_may_use(database["US"], "2.4GHz", 13)
