"""One contract per role variable: ``meta/argument_specs.yml`` gives type, default and
description; the generated ``defaults/main.yml`` and README table, and the validation models,
agree with it. A disagreement is named by role and key."""

import importlib
import pkgutil
import shutil
import types
from typing import Annotated, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

import libraryops.validation
from libraryops import role_specs, wireless
from tools import role_contract

#: Python types a value of each argument_specs type may have.
SPEC_TYPES = {"str": str, "path": str, "bool": bool, "int": int, "float": float, "list": list,
              "dict": dict}


@pytest.mark.parametrize("role", role_specs.role_names())
def test_defaults_and_readme_are_what_argument_specs_generates(role):
    assert role_contract.check(role) == []


@pytest.mark.parametrize("role", role_specs.role_names())
def test_every_own_variable_has_type_default_and_description(role):
    for name, option in role_specs.options(role).items():
        assert option.description, f"roles/{role}: {name}: no description"
        assert option.type in SPEC_TYPES, f"roles/{role}: {name}: type {option.type}"
        if role_specs.owns(role, name):
            assert option.has_default, f"roles/{role}: {name}: no default"
            assert "required" not in option.spec, f"roles/{role}: {name}: required and default"


@pytest.fixture
def sshd_copy(tmp_path, monkeypatch):
    """The sshd role copied to tmp_path, with role_specs reading the copy."""
    shutil.copytree(role_specs.ROLES / "sshd", tmp_path / "sshd")
    monkeypatch.setattr(role_specs, "ROLES", tmp_path)
    role_specs.options.cache_clear()
    yield tmp_path / "sshd"
    role_specs.options.cache_clear()


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_changed_default_is_named_by_role_and_key(sshd_copy):
    _edit(sshd_copy / "meta" / "argument_specs.yml", "default: /etc/issue.net",
          "default: /etc/issue")
    assert role_contract.check("sshd") == [
        "roles/sshd: sshd__banner: defaults/main.yml disagrees with argument_specs",
        "roles/sshd: sshd__banner: README.md's table disagrees with argument_specs"]


def test_a_new_variable_and_a_stale_one_are_named(sshd_copy):
    defaults = sshd_copy / "defaults" / "main.yml"
    _edit(defaults, "sshd__dropin_path:", "sshd__old_setting: 1\nsshd__dropin_path:")
    _edit(sshd_copy / "meta" / "argument_specs.yml", "      sshd__dropin_path:\n",
          "      sshd__new_setting:\n        type: int\n        default: 2\n"
          "        description: A new setting.\n      sshd__dropin_path:\n")
    found = role_contract.check("sshd")
    assert "roles/sshd: sshd__new_setting: in argument_specs, missing from defaults/main.yml" in (
        found)
    assert "roles/sshd: sshd__old_setting: in defaults/main.yml, not in argument_specs (stale)" in (
        found)
    assert ("roles/sshd: sshd__new_setting: in argument_specs, missing from README.md's table"
            in found)
    role_contract.write("sshd")
    assert role_contract.check("sshd") == []


def _python_types(annotation) -> set:
    """The Python types a pydantic annotation accepts (None left out)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _python_types(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*map(_python_types, get_args(annotation))) - {type(None)}
    if origin is Literal:
        return {type(arg) for arg in get_args(annotation)}
    if origin in (list, tuple) or annotation in (list, tuple):
        return {list}
    if origin is dict or annotation is dict:
        return {dict}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {dict}
    return {annotation}


def _models() -> list[type[BaseModel]]:
    modules = [importlib.import_module(f"libraryops.validation.{m.name}")
               for m in pkgutil.iter_modules(libraryops.validation.__path__)
               if not m.name.startswith("_")] + [wireless]
    return sorted({m for module in modules for m in vars(module).values()
                   if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel},
                  key=lambda m: m.__name__)


def test_the_validation_models_agree_with_argument_specs():
    roles = set(role_specs.role_names())
    found = []
    checked = 0
    for model in _models():
        for name, field in model.model_fields.items():
            role = name.split("__", 1)[0]
            if "__" not in name or role not in roles:
                continue
            option = role_specs.options(role).get(name)
            if option is None:
                found.append(f"{model.__name__}.{name}: not in roles/{role}'s argument_specs")
                continue
            checked += 1
            if SPEC_TYPES[option.type] not in _python_types(field.annotation):
                found.append(f"{model.__name__}.{name}: type disagrees with roles/{role}'s "
                             f"argument_specs ({option.type})")
    assert found == []
    assert checked >= 10  # the models do cover role variables
