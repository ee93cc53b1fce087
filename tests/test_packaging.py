"""The source distribution Beam stages for Dataflow workers (`--setup_file ./setup.py`) declares
every distribution the batch job's code imports, pinned to requirements.lock."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("components", "model", "pipelines", "kubeflow")
JOB = "pipelines.inpaint.job"


def _source(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(module: str) -> set[str]:
    """Top-level names of the libraries `module` and the project modules it reaches import,
    deferred imports inside functions included (workers run those)."""
    seen, found, pending = set(), set(), [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _source(name)
        if path is None:  # a name imported from a module, not a module
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for imported in names:
                top = imported.split(".")[0]
                if top in OURS:
                    parts = imported.split(".")
                    pending += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
                elif top not in sys.stdlib_module_names and top != "__future__":
                    found.add(top)
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_sdist_pins_what_the_job_imports(tmp_path: Path) -> None:
    # Deferred: Beam takes seconds to import; collecting this module skips it.
    from apache_beam.runners.portability.stager import Stager

    # The source distribution as Beam builds it for `--setup_file ./setup.py`.
    archive = Path(Stager._build_setup_package(str(ROOT / "setup.py"), str(tmp_path)))
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    unpacked = tmp_path / archive.name.removesuffix(".tar.gz")
    # What a worker's pip sees: setup.py run from the unpacked sdist (the lock travels with it).
    subprocess.run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path)],
                   cwd=unpacked, check=True, capture_output=True)  # fmt: skip
    requires = (tmp_path / "s3inpaint.egg-info" / "requires.txt").read_text().split()
    pins = {_normalise(r.split("==")[0].split("[")[0]): r.split("==")[1] for r in requires}
    assert all("==" in r for r in requires)
    locked = dict(re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", (ROOT / "requirements.lock")
                             .read_text(), re.MULTILINE))  # fmt: skip
    locked = {_normalise(name): version for name, version in locked.items()}
    for name, version in pins.items():
        assert locked[name] == version, f"{name}=={version}, the lock has {locked[name]}"

    providers = importlib.metadata.packages_distributions()
    imports = third_party_imports(JOB)
    assert {"netCDF4", "xarray", "rasterio", "tensorflow"} <= imports  # the closure is followed
    for top in imports:
        # A namespace package (google) is provided by several distributions: one will do.
        assert {_normalise(d) for d in providers[top]} & set(pins), f"{top} is not required"
