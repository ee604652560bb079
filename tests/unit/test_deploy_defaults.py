"""One owner per public-PC setting: deploy/defaults.py. Every deploy passes it as
``data_defaults``, every ``public_pc__*`` setting a deploy reads has its default there, and
validation knows every one of them (type and range)."""

import ast
import re

from deploy.defaults import DEFAULTS
from libraryops import paths
from libraryops.validation.public_pcs import PublicPcModel

DEPLOY = paths.REPO / "deploy"
READ = re.compile(r"\bpublic_pc__\w+")


def _deploy_decorators():
    for path in sorted(DEPLOY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "deploy":
                yield path.name, node


def test_every_deploy_takes_its_defaults_from_the_one_mapping():
    decorators = list(_deploy_decorators())
    assert sum(any(k.arg == "data_defaults" for k in call.keywords) for _, call in decorators) > 5
    for name, call in decorators:
        given = {k.arg: k.value for k in call.keywords}
        if "data_defaults" in given:  # deploys that read no setting pass none
            assert getattr(given["data_defaults"], "id", None) == "DEFAULTS", name


def test_every_setting_a_deploy_reads_has_its_default_and_its_validation():
    read = {match for path in DEPLOY.rglob("*") if path.is_file() and path.name != "defaults.py"
            for match in READ.findall(path.read_text(encoding="utf-8"))}
    assert read
    assert sorted(read - DEFAULTS.keys()) == []
    assert sorted(DEFAULTS.keys() - PublicPcModel.model_fields.keys()) == []


def test_each_default_passes_its_own_validation():
    PublicPcModel.model_validate(DEFAULTS, context=DEFAULTS)
