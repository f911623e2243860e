"""The template built for another architecture (``make build ARCH=``): only the architecture changes.

The build itself is run by ``tests/e2e/test_invoke_cli.py``, which runs what it produced.
"""

from __future__ import annotations

import copy
import platform

import pytest

from devtools import REPO_ROOT
from devtools.template import build, table

LAYER = "CommonLayer"


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_only_the_functions_and_layers_architecture_changes(architecture: str) -> None:
    template = table.load_template()
    variant = build.for_architecture(copy.deepcopy(template), architecture)
    assert variant["Globals"]["Function"]["Architectures"] == [architecture]
    assert variant["Resources"][LAYER]["Metadata"]["BuildArchitecture"] == architecture
    assert variant["Resources"][LAYER]["Properties"]["CompatibleArchitectures"] == [architecture]
    for function in ("ListFunction", "StreamCounterFunction"):
        assert table.function_properties(variant, function)["Architectures"] == [architecture]
    # Put the template's own values back: nothing else differs.
    variant["Globals"]["Function"]["Architectures"] = template["Globals"]["Function"]["Architectures"]
    variant["Resources"][LAYER]["Metadata"] = template["Resources"][LAYER]["Metadata"]
    variant["Resources"][LAYER]["Properties"] = template["Resources"][LAYER]["Properties"]
    assert variant == template


def test_a_build_for_another_architecture_has_a_directory_of_its_own() -> None:
    declared = table.load_template()["Globals"]["Function"]["Architectures"][0]
    other = "x86_64" if declared == "arm64" else "arm64"
    assert build.default_build_dir(declared) == REPO_ROOT / ".aws-sam" / "build"
    assert build.default_build_dir(other) == REPO_ROOT / ".aws-sam" / other / "build"


@pytest.mark.parametrize(
    ("machine", "architecture"), [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64")]
)
def test_the_machines_architecture_in_lambdas_words(machine: str, architecture: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: machine)
    assert build.machine_architecture() == architecture
