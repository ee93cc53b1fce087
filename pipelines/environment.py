"""Process environment every s3inpaint entry point sets before TensorFlow is imported."""

from __future__ import annotations

import logging
import os
import warnings

# Importing tensorflow_transform sets TF_USE_LEGACY_KERAS=1 unless it is set, which would turn
# tf.keras into Keras 2 in this process and its children; s3inpaint uses Keras 3 throughout.
KERAS_ENV = {"TF_USE_LEGACY_KERAS": "0"}
# TensorFlow's C++ log (CPU features, CUDA and TensorRT probing, plugin registration): 3 keeps
# nothing; Python exceptions still say what failed.
TF_LOG_ENV = "TF_CPP_MIN_LOG_LEVEL"
IGNORE_FUTURE = "ignore::FutureWarning"
# Beam's local job service relays every warning of its worker processes (start-up notes).
NOISY_LOGGERS = ("absl", "tensorflow", "apache_beam.runners.portability.local_job_service")


def use_keras_3() -> None:
    """Pin Keras 3 for this process and every child it starts (Beam workers included)."""
    os.environ.update(KERAS_ENV)


def quiet_libraries() -> None:
    """Silence TensorFlow's and CUDA's start-up log and libraries' FutureWarnings, here and in
    every child this process starts (Beam workers); a variable the user set is kept."""
    os.environ.setdefault(TF_LOG_ENV, "3")
    given = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = f"{given},{IGNORE_FUTURE}" if given else IGNORE_FUTURE
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
