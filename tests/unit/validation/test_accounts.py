"""``make validate`` for the management accounts (role accounts): each bad input is named by
file and key.
"""

import pytest
from sites import ACCOUNTS, edit, write

TOWNIT_KEY = """      - >-
        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7Z31XZmJLs6R+j2AKDIlgLxecz0l2sy8ORWPvjypi/
        townit-oncall@town-hall
"""


def _empty_management_users(site):
    write(site, ACCOUNTS, "---\naccounts__management_users: []\n")


def _no_management_users(site):
    (site / ACCOUNTS).unlink()


def _management_user_without_name(site):
    edit(site, ACCOUNTS, "  - name: townit\n    comment:", "  - comment:")


def _management_user_without_key(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY, "")


def _management_user_unknown_key(site):
    edit(site, ACCOUNTS, "    comment: Town IT on-call\n",
         "    comment: Town IT\n    shell: /bin/sh\n")


def _connecting_user_not_listed(site):
    edit(site, ACCOUNTS, "  - name: libops\n", "  - name: jreyes\n")


def _key_type_mismatch(site):
    edit(site, ACCOUNTS, TOWNIT_KEY, TOWNIT_KEY.replace("ssh-ed25519", "ecdsa-sha2-nistp256"))


def _key_data_not_base64(site):
    edit(site, ACCOUNTS, TOWNIT_KEY, TOWNIT_KEY.replace("IA7Z31XZ", "IA7Z3!XZ"))


def _key_file_missing(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY,
         "    ssh_key_files:\n      - /nonexistent/townit.pub\n")


def _key_file_relative(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY,
         "    ssh_key_files:\n      - keys/townit.pub\n")


BAD = {
    "management users empty": (_empty_management_users, [
        (ACCOUNTS, "accounts__management_users", "at least 1 item")]),
    "management users missing": (_no_management_users, [
        (ACCOUNTS, "accounts__management_users", "missing")]),
    "management user without name": (_management_user_without_name, [
        (ACCOUNTS, "accounts__management_users[1].name", "missing")]),
    "management user without key": (_management_user_without_key, [
        (ACCOUNTS, "accounts__management_users[1]", "no SSH key")]),
    "management user unknown key": (_management_user_unknown_key, [
        (ACCOUNTS, "accounts__management_users[1].shell",
         "unknown key (allowed: name, comment, ssh_keys, ssh_key_files)")]),
    "connecting user not a management user": (_connecting_user_not_listed, [
        (ACCOUNTS, "accounts__management_users", "(allowed: a list including libops)")]),
    "key type does not match key data": (_key_type_mismatch, [
        (ACCOUNTS, "accounts__management_users[1].ssh_keys[0]",
         "key data is not a ecdsa-sha2-nistp256 key (it says 'ssh-ed25519')")]),
    "key data not base64": (_key_data_not_base64, [
        (ACCOUNTS, "accounts__management_users[1].ssh_keys[0]", "key data is not base64")]),
    "key file missing": (_key_file_missing, [
        (ACCOUNTS, "accounts__management_users[1].ssh_key_files[0]",
         "/nonexistent/townit.pub: no such file (allowed: an existing file")]),
    "key file relative": (_key_file_relative, [
        (ACCOUNTS, "accounts__management_users[1].ssh_key_files[0]", "relative path")]),
    "same management account twice": (
        lambda s: edit(s, ACCOUNTS, "  - name: townit", "  - name: libops"), [
            (ACCOUNTS, "accounts__management_users", "lists libops more than once: the accounts "
             "role would keep only the last entry's keys (a lockout)")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_management_accounts(case, example, bad_input):
    bad_input(example, BAD[case])
