"""One definition of a secret's name (libraryops.secret_names), used alike by ``make lint``,
``make validate``, the log redaction and the testinfra suites' masking."""

import pytest
from sites import assert_problems, edit

from libraryops import lint_secrets, redact
from libraryops.inventory import SiteInventory
from libraryops.secret_names import is_secret_name

SECRETS = ["wifi_password", "PassPhrase", "main_psk", "client_secret", "api_token",
           "ansible_become_pass", "ansible_ssh_pass", "wireless__secrets"]
NOT_SECRETS = ["bypass", "passwd_hint", "vault_password_file", "token_path", "secret_dir",
               "site__name", "sshd__password_authentication"]


@pytest.mark.parametrize("name", SECRETS)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", NOT_SECRETS)
def test_names_that_are_not_secrets(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["catalog_api_token", "ansible_become_pass"])
def test_lint_validate_and_redaction_agree_on_a_name(name, example, capsys):
    value = "ordinary-words-7f3a"
    text = f"---\n{name}: {value}\n"
    assert [key for _, key, _ in lint_secrets.check_yaml(text)] == [name]
    inventory = SiteInventory(path=example, hosts={"h": {name: value, "site__name": "x"}})
    assert redact.redact(f"log {value} line", redact.secret_values(inventory)) == (
        f"log {redact.MASK} line")
    edit(example, "group_vars/all/site.yml", "site__name:", f"{name}: {value}\nsite__name:")
    lines = assert_problems(example, capsys, [
        ("group_vars/all/site.yml", name, "a secret stored unencrypted outside a vault file")])
    assert not [line for line in lines if value in line]
