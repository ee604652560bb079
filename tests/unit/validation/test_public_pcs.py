"""``make validate`` for the public PCs' data (``public_pc__*``): each bad input is named by
file and key.
"""

import pytest
from sites import PUBLIC_PC, edit, patron_is_root


def _idle_minutes_zero(site):
    edit(site, PUBLIC_PC, "public_pc__idle_logout_minutes: 20", "public_pc__idle_logout_minutes: 0")


def _idle_warning_too_long(site):
    edit(site, PUBLIC_PC, "public_pc__idle_logout_minutes: 20", "public_pc__idle_logout_minutes: 1")


def _unknown_usb_policy(site):
    edit(site, PUBLIC_PC, "public_pc__usb_storage: allowed", "public_pc__usb_storage: readonly")


def _patron_not_a_user_name(site):
    edit(site, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user: Patron PC")


def _unknown_power_actions(site):
    edit(site, PUBLIC_PC, "public_pc__power_actions: act", "public_pc__power_actions: off")


BAD = {
    "patron user is a management account": (
        lambda s: edit(s, PUBLIC_PC, "public_pc__patron_user: patron",
                       "public_pc__patron_user: townit"), [
            (PUBLIC_PC, "public_pc__patron_user", "a management account: its home would be "
                                                  "wiped")]),
    "a key with an empty value": (
        lambda s: edit(s, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user:"),
        [(PUBLIC_PC, "public_pc__patron_user", "no value (the key is there, its value empty) "
                                               "(allowed: a Linux user name")]),
    "idle minutes zero": (_idle_minutes_zero, [
        (PUBLIC_PC, "public_pc__idle_logout_minutes", "greater than or equal to 1")]),
    "idle warning as long as the idle time": (_idle_warning_too_long, [
        (PUBLIC_PC, "public_pc__idle_warning_seconds", "as long as the idle time")]),
    "unknown USB policy": (_unknown_usb_policy, [
        (PUBLIC_PC, "public_pc__usb_storage", "")]),
    "patron user root": (patron_is_root, [
        (PUBLIC_PC, "public_pc__patron_user", "root is not allowed here")]),
    "patron user not a user name": (_patron_not_a_user_name, [
        (PUBLIC_PC, "public_pc__patron_user", "not a Linux user name")]),
    "unknown power actions mode": (_unknown_power_actions, [
        (PUBLIC_PC, "public_pc__power_actions", "(allowed: act (power off and set the RTC wake "
                                                "alarm) or log (only log them))")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_public_pc_data(case, example, bad_input):
    bad_input(example, BAD[case])
