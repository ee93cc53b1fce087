"""Checks of a training run's inputs made before the pipeline starts, from headers alone.

Without them a pattern that matches nothing, a missing `input_base` or a patch larger than every
scene gives an ExampleGen without examples, and the run fails later, in Transform, with an error
that names none of them.
"""

from __future__ import annotations

import os

from components.example_gen.scenes import scene_size
from components.example_gen.spans import any_span
from components.olci.storage import is_gcs, list_products, require_credentials
from pipelines.config import PipelineConfig


class InputError(ValueError):
    """The inputs a configuration names cannot give a single patch."""


def check_inputs(config: PipelineConfig) -> None:
    """Refuse inputs that cannot give a single patch, naming the field at fault.

    Every span's inputs are matched (any `{SPAN}`, date or `{VERSION}` spec as a wildcard), and
    scene headers are read until one scene holds a patch.

    Raises:
        MissingCredentialsError: a path is on gs:// and there are no Google Cloud credentials.
        InputError: `input_base` is not a folder, `input_pattern` matches nothing under it, no
            matched input's header can be read, or `ingest.patch_size` is larger than every
            matched scene.
    """
    base = config.input_base
    require_credentials(base, config.pipeline_root, config.serving_dir)
    if not is_gcs(base) and not os.path.isdir(base):
        raise InputError(f"input_base {base}: no such folder")
    pattern = os.path.join(base, any_span(config.input_pattern))
    inputs = list_products(pattern)
    if not inputs:
        raise InputError(
            f"input_pattern {config.input_pattern!r} matches nothing under input_base {base} "
            f"(looked for {pattern})"
        )
    patch = config.ingest.patch_size
    sizes, problems = [], []
    for path in inputs:
        try:
            rows, columns = scene_size(path, config.ingest)
        except Exception as error:  # ExampleGen reports such an input; one that reads may fit
            problems.append(f"{path}: {error}")
            continue
        if min(rows, columns) >= patch:
            return
        sizes.append((rows, columns, path))
    if not sizes:
        raise InputError(
            f"none of the {len(inputs)} inputs matched by {pattern} can be read; the first: "
            f"{problems[0]}"
        )
    rows, columns, path = max(sizes, key=lambda size: min(size[:2]))
    raise InputError(
        f"ingest.patch_size {patch} is larger than every scene matched by {pattern} "
        f"(the largest, {path}, is {rows} x {columns})"
    )
