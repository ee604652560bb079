"""``make validate`` for the staff machines' data (role staff_workstation): each bad input is
named by file and key.
"""

import pytest
from sites import STAFF, edit, write

BAD = {
    "shared printers with no client network named": (
        lambda s: write(s, "group_vars/staff_machines/printing.yml",
                        "---\nstaff_workstation__share_printers: true\n"),
        [("group_vars/staff_machines/staff_workstation.yml", "staff_workstation__printer_clients",
          "empty while staff_workstation__share_printers is true: CUPS would answer anyone")]),
    "shared printers open to the Internet": (
        lambda s: write(s, "group_vars/staff_machines/printing.yml",
                        "---\nstaff_workstation__share_printers: true\n"
                        "staff_workstation__printer_clients: [0.0.0.0/0]\n"),
        [("group_vars/staff_machines/printing.yml", "staff_workstation__printer_clients",
          "together the networks reach the Internet")]),
    "printer URI not IPP": (
        lambda s: edit(s, STAFF, "ipps://print.riverton.example.org/printers/staff-workroom",
                       "lpd://print.riverton.example.org/staff-workroom"),
        [(STAFF, "staff_workstation__printers[0].uri", "not an ipp(s) URL with a host")]),
    "AD domain upper case": (
        lambda s: edit(s, STAFF, "ad_domain: ad.riverton.example.org",
                       "ad_domain: AD.RIVERTON.EXAMPLE.ORG"),
        [(STAFF, "staff_workstation__ad_domain", "not a lower-case DNS domain name")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_staff_workstation_data(case, example, bad_input):
    bad_input(example, BAD[case])
