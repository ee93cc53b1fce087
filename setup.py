"""One installable distribution, `s3inpaint`, with the console script `s3inpaint`.

Dependencies are pinned in requirements.lock and installed by `make install` (TFX 1.16.0 needs
--no-deps on Python 3.11), so none are declared here.
"""

from setuptools import find_packages, setup

setup(
    name="s3inpaint",
    version="0.1.0",
    description="Cloud-gap filling for Sentinel-3 OLCI ocean-colour products",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["components*", "model*", "pipelines*", "kubeflow*"]),
    package_data={"components.sample": ["data/*"]},
    entry_points={"console_scripts": ["s3inpaint = pipelines.cli:main"]},
)
