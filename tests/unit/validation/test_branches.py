"""``make validate`` for a branch's facts (``branch__*``): time zone, catalog URL, print queue,
name; each bad input is named by file and key, a vaulted value never printed.
"""

import pytest
from sites import EAST, assert_problems, edit, unknown_time_zone


def _missing_time_zone(site):
    edit(site, EAST, "branch__timezone: America/New_York\n", "")


def _catalog_not_http(site):
    edit(site, EAST, "https://catalog.example.org/east/", "ftp://catalog.example.org/east/")


def _catalog_without_host(site):
    edit(site, EAST, "https://catalog.example.org/east/", "https:///east/")


def _print_queue_not_ipp(site):
    edit(site, EAST, "ipps://print.riverton.example.org", "lpd://print.riverton.example.org")


def _empty_branch_name(site):
    edit(site, EAST, "branch__name: Riverton East Branch", 'branch__name: ""')


BAD = {
    "unknown time zone": (unknown_time_zone, [
        (EAST, "branch__timezone", "not an IANA time zone")]),
    "missing time zone": (_missing_time_zone, [
        (EAST, "branch__timezone", "missing (allowed: an IANA Area/Location name")]),
    "fixed-offset time zone": (lambda s: edit(s, EAST, "America/New_York", "EST"), [
        (EAST, "branch__timezone", "a legacy or fixed-offset zone name (daylight saving would "
                                   "be wrong or deprecated); use the Area/Location name (allowed:"
                                   " an IANA Area/Location name, e.g. America/New_York, or UTC)")]),
    "deprecated time zone alias": (lambda s: edit(s, EAST, "America/New_York", "US/Eastern"), [
        (EAST, "branch__timezone", "a legacy or fixed-offset zone name")]),
    "catalog URL with a space": (
        lambda s: edit(s, EAST, "https://catalog.example.org/east/",
                       "https://catalog.example.org/east branch/"), [
            (EAST, "branch__catalog_url", "it contains a space or control character")]),
    "catalog URL not http": (_catalog_not_http, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")]),
    "print queue not ipp": (_print_queue_not_ipp, [
        (EAST, "branch__print_queue_uri", "not an ipp(s) URL with a host")]),
    "catalog URL without host": (_catalog_without_host, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")]),
    "empty branch name": (_empty_branch_name, [
        (EAST, "branch__name", "at least 1 character")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_branch_facts(case, example, bad_input):
    bad_input(example, BAD[case])


def test_vaulted_value_is_never_printed(example, capsys):
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    plaintext = "ftp://patron-token-1234@catalog.example.org/east/"
    secret = VaultSecret((example / "vault-password.txt").read_bytes().strip())
    ciphertext = VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)]).encrypt(plaintext).decode()
    vaulted = "!vault |\n" + "".join(f"  {line}\n" for line in ciphertext.splitlines())
    edit(example, EAST, "https://catalog.example.org/east/\n", vaulted)
    lines = assert_problems(example, capsys, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")])
    output = "\n".join(lines)
    assert "patron-token" not in output
    assert not [c for c in ciphertext.splitlines()[1:] if c in output]
