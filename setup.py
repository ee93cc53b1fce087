"""One installable distribution, `s3inpaint`, with the console script `s3inpaint`.

`install_requires` is what the batch job's Beam workers import, at requirements.lock's versions
(read from the lock, which the source distribution carries), so `--setup_file ./setup.py` gives
Dataflow workers a working set. `make install` and kubeflow/Dockerfile install the whole lock
first and this project with --no-deps (TFX 1.16.0 declares Python <3.11).
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

LOCK = Path(__file__).resolve().parent / "requirements.lock"
# The distributions the batch job's workers import (tests/test_packaging.py follows the job's
# imports and checks this list).
WORKER_REQUIREMENTS = (
    "affine",
    "apache-beam[gcp]",
    "google-cloud-storage",
    "h5netcdf",
    "h5py",
    "keras",
    "matplotlib",
    "netcdf4",
    "numpy",
    "pydantic",
    "pyyaml",
    "rasterio",
    "scipy",
    "tensorflow",
    "tqdm",
    "xarray",
)


def normalise(name: str) -> str:
    """A distribution's name as package indexes compare it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, str]:
    """{normalised name: version} of the `name==version` lines of a pip-compile lock."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", lock.read_text(), re.MULTILINE)
    return {normalise(name): version for name, version in found}


def pinned(requirements: tuple[str, ...], lock: Path) -> list[str]:
    """Each requirement (`name` or `name[extras]`) pinned to the lock's version."""
    versions = locked_versions(lock)
    return [f"{r}=={versions[normalise(r.split('[')[0])]}" for r in requirements]


setup(
    name="s3inpaint",
    version="0.1.0",
    description="Cloud-gap filling for Sentinel-3 OLCI ocean-colour products",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["components*", "model*", "pipelines*", "kubeflow*"]),
    package_data={"components.sample": ["data/*"]},
    install_requires=pinned(WORKER_REQUIREMENTS, LOCK),
    entry_points={"console_scripts": ["s3inpaint = pipelines.cli:main"]},
)
