"""Benchmark one training step of each model kind: images/s, FLOPs per tile and achieved GFLOP/s.

Run as `python benchmarks/train_step.py [--batch B] [--size S] [--steps N] [--warmup W]
[--kinds K ...] [--output DIR]`.
`cmunet` is the GAN with the defaults of `ModelConfig` (one discriminator update with the hinge
loss, the R1 penalty and spectral regularisation, then one generator update); `unet` is the
baseline (L1 only). Both use the default widths (generator 32, discriminator 16), 16 bands and
Adam with the config's settings, as `model.trainer` builds them. The step is
`tf.function(InpaintingGAN.train_step)` (no XLA, as in the trainer) on one synthetic batch held
on the device, so the input pipeline is not measured. `--warmup` steps run first (the first one
traces the function), then `--steps` steps are timed one by one, each waiting for its result;
the median counts. The figures are printed as a table and saved to `train_step.json` in the
output folder (default `benchmarks/output/`). A small run (tests use `--batch 1 --size 32
--steps 1 --warmup 1`) checks that the benchmark still runs.

FLOPs: the forward FLOPs of the generator and the discriminator per SxS tile are counted by
`tf.compat.v1.profiler` on each network's frozen concrete function (batch 1, inference). The
profiler counts convolutions, matmuls and element-wise adds and multiplies, not activations
(ELU, sigmoid, LeakyReLU) nor upsampling copies: convolutions are over 99% of the count. The
training step's FLOPs per image are an estimate from those (`step_estimate`, whose docstring
states the assumptions); the traced step graph is also counted by the profiler as a cross-check,
an upper bound: it holds gradient ops that TensorFlow prunes at run time (the first layer's input
gradient, D's weight gradients in the generator step), and the profiler counts an input gradient
by the size of the convolution's input, which for the dilated convolutions (run on CPU as
space-to-batch, then a VALID convolution of a padded input) is up to 4x the forward's work.
Achieved GFLOP/s is the estimate times images/s: compare it with the device's peak.

Goal: a figure to compare devices, none to pass. This machine has no GPU (2 CPU cores); on a GPU
machine run the same command: TensorFlow places the step on the first GPU, and the table's
device line says which. MirroredStrategy is not needed for a single-device figure (the trainer's
`strategy.run` on one replica is this step); for a multi-GPU figure, multiply by the replicas
only after checking the scaling separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from pipelines.environment import use_keras_3

use_keras_3()

import keras  # noqa: E402  (after use_keras_3)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework.convert_to_constants import (  # noqa: E402
    convert_variables_to_constants_v2,
)

from model.config import KINDS, ModelConfig  # noqa: E402
from model.gan import InpaintingGAN, build_networks  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"
BANDS = 16
SIZE = 128
BATCH = 4
STEPS = 10
WARMUP = 3
GIGA = 1e9


# --- the model and the data ----------------------------------------------------------------------


def build_model(kind: str, batch: int) -> InpaintingGAN:
    """`kind` with the default config (its batch `batch`) and Adam as `model.trainer` builds it."""
    config = ModelConfig(kind=kind, batch_size=batch)
    keras.utils.set_random_seed(config.seed)
    generator, discriminator = build_networks(config, BANDS)
    model = InpaintingGAN(generator, discriminator, config)

    def adam(lr: float) -> keras.optimizers.Optimizer:
        return keras.optimizers.Adam(lr, beta_1=config.beta_1, beta_2=config.beta_2)

    model.set_optimizers(adam(config.generator_lr), adam(config.discriminator_lr))
    return model


def synthetic_batch(batch: int, size: int, seed: int = 0) -> dict[str, tf.Tensor]:
    """A batch as the trainer feeds it: smooth bands plus noise, a few invalid rows, a gap box.

    The values do not change the work done; they only keep the losses ordinary.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(3 * xx + b) * np.cos(2 * yy - b) for b in range(BANDS)], -1)
    reflectance = base[None] + 0.1 * rng.normal(size=(batch, size, size, BANDS))
    valid = np.ones((batch, size, size, 1))
    valid[:, : size // 16] = 0.0
    gap = np.zeros((batch, size, size, 1))
    gap[:, size // 4 : 3 * size // 4, size // 8 : 5 * size // 8] = 1.0
    arrays = {"reflectance": reflectance * valid, "valid": valid, "gap": gap}
    # tf.identity copies each tensor onto the default device (the GPU, when there is one).
    return {k: tf.identity(tf.constant(v, tf.float32)) for k, v in arrays.items()}


# --- FLOPs ---------------------------------------------------------------------------------------


def count_flops(graph: tf.Graph) -> int:
    """The float operations `tf.compat.v1.profiler` counts in `graph` (static shapes needed)."""
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)


def forward_flops(network: keras.Model, size: int) -> int:
    """Forward FLOPs of `network` on one `size` x `size` tile, from its frozen concrete function.

    Networks take `[image, gap]` (the discriminator) or `[image, gap, invalid]` (generators):
    (1, size, size, BANDS) and masks (1, size, size, 1). A generator's count includes its
    in-graph classical fill (the conjugate-gradient loop's body is counted once).
    """
    masks = len(network.inputs) - 1
    function = tf.function(lambda image, *m: network([image, *m], training=False))
    concrete = function.get_concrete_function(
        tf.TensorSpec((1, size, size, BANDS), tf.float32),
        *[tf.TensorSpec((1, size, size, 1), tf.float32)] * masks,
    )
    return count_flops(convert_variables_to_constants_v2(concrete).graph)


def step_estimate(config: ModelConfig, g_forward: int, d_forward: int) -> dict[str, float]:
    """Training-step FLOPs per image from the forward FLOPs per tile of G (`g_forward`) and D.

    Assumptions: the backward pass of a layer costs twice its forward (the input gradient and
    the weight gradient, each as many FLOPs as the forward), so forward + backward = 3x forward;
    a backward to the input only (the weights are not differentiated) = 2x forward. Counting
    what `InpaintingGAN.train_step` does, per image:

    - G forward once, shared by both updates, and G's backward (3 G).
    - D step: D on the real and the fake image, forward and backward (2 x 3 D); the R1 penalty
      (any gradient penalty): a D forward and its input gradient (2 D), then the outer tape
      differentiates both through D's weights, a double-backward costing twice those (4 D): 6 D.
    - G step: D forward and its input gradient (2 D; D's weight gradients are not needed and
      TensorFlow prunes them).
    - `unet`: G forward and backward only (3 G).

    Not counted: the first layers' input gradients (also pruned: a slight overestimate),
    the spectral regularisation (power iterations on D's kernels) and the Adam updates (per step,
    not per image: tens of MFLOP against tens of GFLOP per image), the losses, and what the
    profiler leaves out of the forward counts (activations, upsampling).
    """
    g, d = float(g_forward), float(d_forward)
    if config.kind == "unet":
        parts = {"g_step": 3 * g}
    else:
        penalty = 0.0 if config.gradient_penalty == "none" else 6 * d
        parts = {"d_step": 2 * 3 * d + penalty, "g_step": 3 * g + 2 * d}
    return {**parts, "total": sum(parts.values())}


# --- timing --------------------------------------------------------------------------------------


def time_steps(step, data: dict[str, tf.Tensor], warmup: int, steps: int) -> list[float]:
    """Seconds of each of `steps` calls of `step` after `warmup` untimed calls.

    Each call waits for its result (a scalar read back), so an asynchronous device is timed too.
    """
    for _ in range(warmup):
        float(step(data)["g_loss"])
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        float(step(data)["g_loss"])
        seconds.append(time.perf_counter() - start)
    return seconds


def measure(kind: str, batch: int, size: int, warmup: int, steps: int) -> dict[str, object]:
    """FLOPs and timings of one kind."""
    model = build_model(kind, batch)
    g_forward = forward_flops(model.generator, size)
    d_forward = forward_flops(model.discriminator, size) if model.discriminator else 0
    estimate = step_estimate(model.config, g_forward, d_forward)

    data = synthetic_batch(batch, size)
    step = tf.function(model.train_step)
    start = time.perf_counter()
    traced = step.get_concrete_function(data)  # the timed calls reuse this trace
    trace_seconds = time.perf_counter() - start
    graph_flops = count_flops(traced.graph)

    seconds = time_steps(step, data, warmup, steps)
    median = statistics.median(seconds)
    images_per_second = batch / median
    return {
        "kind": kind,
        "g_params": model.generator.count_params(),
        "d_params": model.discriminator.count_params() if model.discriminator else 0,
        "g_forward_gflop_per_tile": g_forward / GIGA,
        "d_forward_gflop_per_tile": d_forward / GIGA,
        "step_gflop_per_image_estimate": estimate["total"] / GIGA,
        "step_gflop_estimate_parts": {k: v / GIGA for k, v in estimate.items() if k != "total"},
        "step_gflop_per_image_graph": graph_flops / batch / GIGA,
        "trace_seconds": trace_seconds,
        "step_seconds": seconds,
        "ms_per_step": 1e3 * median,
        "ms_per_step_mean": 1e3 * statistics.fmean(seconds),
        "images_per_second": images_per_second,
        "achieved_gflop_per_second": estimate["total"] * images_per_second / GIGA,
    }


# --- the report ----------------------------------------------------------------------------------


def device_description() -> str:
    """The device the step runs on: the first GPU's name, else the CPU and its core count."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        return f"GPU: {name} ({len(gpus)} visible, the first used)"
    return f"CPU: {cpu_name()}, {os.cpu_count()} cores, no GPU"


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def print_table(summary: dict[str, object]) -> None:
    """The figures as a small text table."""
    print(f"\n{summary['device']}; TensorFlow {summary['tensorflow']}, Keras {summary['keras']}")
    print(f"{summary['size']}x{summary['size']} tiles, {summary['bands']} bands, batch "
          f"{summary['batch']}, median of {summary['steps']} steps after {summary['warmup']} "
          f"warm-up\n")  # fmt: skip
    header = (f"{'kind':<7} {'G params':>9} {'D params':>9} {'G fwd GF/tile':>14} "
              f"{'D fwd GF/tile':>14} {'step GF/img est.':>17} {'(graph)':>8} {'ms/step':>9} "
              f"{'images/s':>9} {'GFLOP/s':>8}")  # fmt: skip
    print(header)
    for r in summary["results"]:
        print(f"{r['kind']:<7} {r['g_params']:>9,} {r['d_params']:>9,} "
              f"{r['g_forward_gflop_per_tile']:>14.3f} {r['d_forward_gflop_per_tile']:>14.3f} "
              f"{r['step_gflop_per_image_estimate']:>17.2f} "
              f"{r['step_gflop_per_image_graph']:>8.2f} {r['ms_per_step']:>9.1f} "
              f"{r['images_per_second']:>9.2f} {r['achieved_gflop_per_second']:>8.1f}")  # fmt: skip
    print("\nGF: GFLOP. step GF/img est.: 3x forward per network plus the GAN's extra D passes "
          "(see step_estimate);\n(graph): the traced step graph counted by the profiler, an "
          "upper bound (see the module docstring).\nGFLOP/s: the estimate x images/s.")  # fmt: skip


def benchmark(
    kinds: list[str], batch: int, size: int, warmup: int, steps: int, output: Path = OUTPUT
) -> dict:
    """Measure every kind, print and save the summary."""
    results = []
    for kind in kinds:
        print(f"  {kind}: building, counting FLOPs, tracing and timing ...", flush=True)
        results.append(measure(kind, batch, size, warmup, steps))
        print(f"  {kind}: {results[-1]['ms_per_step']:.1f} ms/step", flush=True)
    summary = {
        "device": device_description(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "size": size,
        "bands": BANDS,
        "batch": batch,
        "warmup": warmup,
        "steps": steps,
        "assumptions": step_estimate.__doc__,
        "results": results,
    }
    print_table(summary)
    output.mkdir(parents=True, exist_ok=True)
    (output / "train_step.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=BATCH, help=f"batch size (default {BATCH})")
    parser.add_argument("--size", type=int, default=SIZE, help=f"tile size (default {SIZE})")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"timed steps (default {STEPS})")
    parser.add_argument("--warmup", type=int, default=WARMUP,
                        help=f"untimed steps first, at least 1 (default {WARMUP})")  # fmt: skip
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS),
                        help="model kinds (default: all)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=OUTPUT, metavar="DIR",
                        help="where train_step.json goes (default %(default)s)")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("batch", "size", "steps", "warmup"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, not {getattr(args, name)}")
    if args.size % 16:
        parser.error(f"--size {args.size} must be a multiple of 16 (the UNet's stride)")
    benchmark(args.kinds, args.batch, args.size, args.warmup, args.steps, args.output)


if __name__ == "__main__":
    main()
