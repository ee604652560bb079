"""``make validate`` for the time role's data (timesync): each bad input is named by file and key.
"""

import pytest
from sites import TIMESYNC, edit, write

BAD = {
    "NTP list empty": (
        lambda s: write(s, TIMESYNC, "---\ntimesync__ntp_servers: []\n"),
        [(TIMESYNC, "timesync__ntp_servers", "at least 1 item")]),
    "NTP list missing": (
        lambda s: (s / TIMESYNC).unlink(),
        [(TIMESYNC, "timesync__ntp_servers", "missing")]),
    "NTP server not an address": (
        lambda s: edit(s, TIMESYNC, "ntp2.riverton.example.org", "ntp 2"),
        [(TIMESYNC, "timesync__ntp_servers[1]", "neither an IP address nor a host name")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_timesync_data(case, example, bad_input):
    bad_input(example, BAD[case])
