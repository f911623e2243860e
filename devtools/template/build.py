"""``sam build`` (no container) of ``template.yaml`` for another architecture than the template's.

The template's functions and layer are ``arm64``: ``sam build`` fetches the layer's compiled
dependencies (cryptography and cffi) for that architecture (``layers/common/Makefile``), and a
machine of another one cannot import them. To run the build on such a machine (``make invoke BUILT=1``), this builds the
same template with only the architecture changed (the functions' ``Architectures``, the layer's
``BuildArchitecture`` and ``CompatibleArchitectures``), into a build directory of its own, so that
``.aws-sam/build``, what ``sam deploy`` ships, stays the template's::

    python -m devtools.cli.build [--architecture x86_64] [--build-dir DIR]

The default architecture is this machine's, and the default build directory
``.aws-sam/<architecture>/build`` (``.aws-sam/build`` for the template's own architecture).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools import REPO_ROOT
from devtools.template import table

SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
DEFAULT_BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
ARCHITECTURES = ("arm64", "x86_64")
"""Lambda's architectures."""


class BuildFailed(RuntimeError):
    pass


class NotRunnable(RuntimeError):
    """No build to run here: none made yet, or one for another architecture."""


def machine_architecture() -> str:
    """This machine's architecture, in Lambda's words (``x86_64``, ``arm64``)."""
    machine = platform.machine().lower()
    return _MACHINES.get(machine, machine)


def function_architecture(template_path: Path, logical_id: str) -> str:
    """The architecture a function of the template runs on (Lambda's default: ``x86_64``)."""
    properties = table.function_properties(table.load_template(template_path), logical_id)
    return str((properties.get("Architectures") or ["x86_64"])[0])


def default_build_dir(architecture: str, template_path: Path = table.TEMPLATE_PATH) -> Path:
    """``.aws-sam/build`` for the template's architecture, ``.aws-sam/<architecture>/build`` for another."""
    template = table.load_template(template_path)
    declared = ((template.get("Globals") or {}).get("Function") or {}).get("Architectures") or ["x86_64"]
    return DEFAULT_BUILD_DIR if architecture == declared[0] else REPO_ROOT / ".aws-sam" / architecture / "build"


def for_architecture(template: dict[str, Any], architecture: str) -> dict[str, Any]:
    """The template (as :func:`table.load_template` reads it) with its functions and layers on ``architecture``."""
    globals_function = (template.get("Globals") or {}).get("Function")
    if globals_function is not None and "Architectures" in globals_function:
        globals_function["Architectures"] = [architecture]
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and "Architectures" in properties:
            properties["Architectures"] = [architecture]
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            if "CompatibleArchitectures" in properties:
                properties["CompatibleArchitectures"] = [architecture]
            if "BuildArchitecture" in (resource.get("Metadata") or {}):
                resource["Metadata"]["BuildArchitecture"] = architecture
    return template


def build(architecture: str, build_dir: Path, template_path: Path = table.TEMPLATE_PATH) -> None:
    """``sam build`` of the template on ``architecture`` into ``build_dir`` (its cache and build state beside it)."""
    work = build_dir.parent
    work.mkdir(parents=True, exist_ok=True)
    variant = work / f"template-{architecture}.json"  # JSON is YAML: SAM reads it as the template
    variant.write_text(json.dumps(for_architecture(table.load_template(template_path), architecture), indent=1) + "\n")
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        # `sam build` needs a `python3.13` on PATH: the project's virtualenv has one.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(REPO_ROOT / ".venv" / "bin"), os.environ.get("PATH", "")]),
        # The layer's Makefile fetches its compiled dependencies for this architecture (SAM does not tell it).
        "LAYER_ARCHITECTURE": architecture,
    }
    command = [
        str(SAM), "build", "--template-file", str(variant), "--base-dir", str(template_path.parent),
        "--build-dir", str(build_dir), "--cache-dir", str(work / "cache"), "--parallel",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildFailed(f"sam build failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def runnable_build(build_dir: Path | None = None) -> Path:
    """The template of the build to run on this machine (default: its architecture's build directory).

    ``NotRunnable`` when there is no build there, or when it is for another architecture: its
    compiled modules could not be imported here.
    """
    machine = machine_architecture()
    build_dir = build_dir or default_build_dir(machine)
    template = build_dir / "template.yaml"
    make_build = "`make build`" if build_dir == DEFAULT_BUILD_DIR else f"`make build ARCH={machine}`"
    if not template.is_file():
        raise NotRunnable(f"no build in {shown(build_dir)}: run {make_build} first")
    resources = table.load_template(template)["Resources"]
    for logical_id in sorted(name for name, resource in resources.items() if resource.get("Type") == "AWS::Serverless::Function"):
        built_for = function_architecture(template, logical_id)
        if built_for != machine:
            raise NotRunnable(f"{logical_id} in {shown(build_dir)} is built for {built_for} and this machine is {machine}: "
                              f"its compiled modules cannot load here; `make build ARCH={machine}` builds for this machine")  # fmt: skip
    return template


def sources_changed_since(built_template: Path) -> bool:
    """Whether a file ``sam build`` reads (the template, the functions, the layer) changed after the build."""
    sources = [table.TEMPLATE_PATH, *(REPO_ROOT / "functions").rglob("*.py"), *(REPO_ROOT / "layers").rglob("*")]
    newest = max(path.stat().st_mtime for path in sources if path.is_file() and "__pycache__" not in path.parts)
    return newest > built_template.stat().st_mtime


def shown(path: Path) -> str:
    """A path as the messages show it: relative to the checkout when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
