"""``make validate`` for secrets stored in plain text: refused wherever they are, never printed;
vault files and inline ``!vault`` values count as encrypted.
"""

import yaml
from sites import VAULT, WIRELESS, assert_problems, edit, leaves, read_secrets, run, write

from libraryops.inventory import vault_lib


def test_passphrase_in_plain_text_inside_a_network_is_refused_without_printing_it(example,
                                                                                 capsys):
    secret = read_secrets(example)["public"]["passphrase"]
    edit(example, WIRELESS, "    follows_hours: true\n",
         f'    follows_hours: true\n    passphrase: "{secret}"\n')
    lines = assert_problems(example, capsys, [
        (WIRELESS, "wireless__networks[0].passphrase", "a secret stored unencrypted outside a "
                                                       "vault file (allowed: wireless__secrets")])
    assert not any(secret in line for line in lines)


def test_secrets_file_left_unencrypted_is_refused_key_by_key(example, capsys):
    secrets = read_secrets(example)
    (example / VAULT).unlink()
    write(example, "group_vars/all/wireless_secrets.yml",
          "---\n" + yaml.safe_dump({"wireless__secrets": secrets}))
    plain = "group_vars/all/wireless_secrets.yml"
    lines = assert_problems(example, capsys, [
        (plain, "wireless__secrets.public.passphrase", "a secret stored unencrypted outside a "
                                                       "vault file (allowed: a vault-encrypted "
                                                       "file"),
        (plain, "wireless__secrets.staff.radius_secret", "a secret stored unencrypted"),
    ])
    assert not any(v in line for v in leaves(secrets) for line in lines)


def test_any_password_variable_in_plain_text_is_refused(example, capsys):
    write(example, "group_vars/staff_machines/directory.yml",
          "---\nstaff_workstation__ad_join_password: Hunter2-in-plain-text\n")
    lines = assert_problems(example, capsys, [
        ("group_vars/staff_machines/directory.yml", "staff_workstation__ad_join_password",
         "a secret stored unencrypted outside a vault file")])
    assert not any("Hunter2" in line for line in lines)


def test_inline_vault_values_count_as_encrypted(example, capsys):
    """Secrets as inline !vault values in a plain file are encrypted too (README: Secrets)."""
    secrets = read_secrets(example)
    vault = vault_lib(example / "vault-password.txt")
    (example / VAULT).unlink()
    text = "---\nwireless__secrets:\n"
    for network, values in secrets.items():
        text += f"  {network}:\n"
        for key, value in values.items():
            cipher = vault.encrypt(value.encode()).decode()
            text += f"    {key}: !vault |\n" + "".join(f"      {ln}\n"
                                                      for ln in cipher.splitlines())
    write(example, "group_vars/all/wireless_inline.yml", text)
    code, lines = run(example, capsys)
    assert code == 0, lines


def test_inline_vault_secret_inside_a_network_belongs_in_the_secrets(example, capsys):
    vault = vault_lib(example / "vault-password.txt")
    cipher = vault.encrypt(b"Inline-Vault-2027").decode()
    edit(example, WIRELESS, "    follows_hours: true\n",
         "    follows_hours: true\n    passphrase: !vault |\n"
         + "".join(f"      {ln}\n" for ln in cipher.splitlines()))
    assert_problems(example, capsys, [
        (WIRELESS, "wireless__networks[0].passphrase", "a secret inside a network (allowed: "
                                                       "secrets in wireless__secrets.<name>")])


def test_an_ssh_or_become_password_in_plain_text_is_refused_without_printing_it(example, capsys):
    value = "ordinary-words-7"
    write(example, "group_vars/all/connection.yml",
          f"---\nansible_become_pass: {value}\nansible_ssh_pass: {value}\n")
    lines = assert_problems(example, capsys, [
        ("group_vars/all/connection.yml", key, "a secret stored unencrypted outside a vault file")
        for key in ("ansible_become_pass", "ansible_ssh_pass")])
    assert not any(value in line for line in lines)
