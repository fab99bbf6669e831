"""Import TensorFlow/Keras once, without the start-up banner its C++ side writes to stderr."""

from __future__ import annotations

import os
import sys
import tempfile

# Lines TensorFlow's native code prints on every import; TF_CPP_MIN_LOG_LEVEL does not silence them.
_BANNER = (
    "absl::InitializeLog",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "rebuild TensorFlow with the appropriate compiler flags",
)


EXTRAS = {"jax": "jax", "torch": "torch"}  # the package each backend needs, from pip install "mlexp[NAME]"


def use_backend(name: str) -> None:
    """Run Keras on `name`: set before Keras is first imported; a process already on another backend
    cannot switch (a sweep over backends runs its jobs in processes: hydra/launcher=joblib)."""
    import importlib.util

    from mlexp.errors import ConfigError

    if name != "tensorflow" and importlib.util.find_spec(EXTRAS[name]) is None:
        raise ConfigError("trainer.backend", name, f'a backend whose package is installed: pip install "mlexp[{name}]"')
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != name:
            raise ConfigError(
                "trainer.backend", name,
                f"{current}: Keras is already loaded on {current} in this process; run this job in its own "
                "process (mlexp train in a new shell, or hydra/launcher=joblib for a sweep over backends)",
            )  # fmt: skip
        return
    os.environ["KERAS_BACKEND"] = name


def import_keras():
    """Return the keras module, importing TensorFlow with its banner filtered out of stderr."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow  # noqa: F401  (the banner comes from loading its shared libraries)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
    kept = [line for line in text.splitlines() if line.strip() and not any(b in line for b in _BANNER)]
    if kept:
        print("\n".join(kept), file=sys.stderr)
    # Every sweep job and tuning trial builds a new model, so its predict function is traced anew:
    # expected, and TensorFlow's advice about retracing loops does not apply.
    tensorflow.get_logger().addFilter(lambda record: "triggered tf.function retracing" not in record.getMessage())
    return keras
