"""Import TensorFlow/Keras once, without the start-up banner its C++ side writes to stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

# Lines TensorFlow's native code prints on every import; TF_CPP_MIN_LOG_LEVEL does not silence them.
_BANNER = (
    "absl::InitializeLog",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "rebuild TensorFlow with the appropriate compiler flags",
)


EXTRAS = {"jax": "jax", "torch": "torch"}  # the package each backend needs, from pip install "mlexp-keras[NAME]"


def use_backend(name: str) -> None:
    """Run Keras on `name`: set before Keras is first imported; a process already on another backend
    cannot switch (a sweep over backends runs its jobs in processes: hydra/launcher=joblib)."""
    import importlib.util

    from mlexp.errors import ConfigError

    if name != "tensorflow" and importlib.util.find_spec(EXTRAS[name]) is None:
        raise ConfigError(
            "trainer.backend", name, f'a backend whose package is installed: pip install "mlexp-keras[{name}]"'
        )
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
    if name == "jax":  # JAX logs its failed TPU probe (no libtpu.so) as a warning on every CPU or GPU machine
        import logging

        logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)


def import_keras(backend: str | None = None):
    """Return the keras module, on `backend` (a run config's trainer.backend) when given. On TensorFlow,
    TensorFlow is imported with it (its banner filtered out of stderr); Keras on JAX or PyTorch runs
    without it until something needs tf.data (import_tensorflow)."""
    if backend is not None:
        use_backend(backend)
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with _banner_filtered():
        import keras
    if keras.backend.backend() == "tensorflow":
        import_tensorflow()
    elif keras.backend.backend() == "jax":
        use_compilation_cache()
    return keras


CACHE_ENV = "MLEXP_COMPILATION_CACHE"  # a folder, or "off"
CACHE_BYTES = 2**30  # JAX evicts the least recently used programs beyond it


def use_compilation_cache() -> None:
    """Keep JAX's compiled programs on disk, so that the jobs of a sweep (same model, same shapes) compile
    their train, test and predict steps once instead of once per job (2.5-3.5 s a job for a small MLP on
    2 cores). A cached program is the program XLA would compile again: results are bit-identical."""
    import importlib.util

    folder = compilation_cache_folder(os.environ)
    if folder is None:
        return
    if importlib.util.find_spec("filelock") is None:  # JAX's cache locks out a parallel sweep's other processes
        return _cache_off('pip install "mlexp-keras[jax]" (filelock)')
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only home, say
        return _cache_off(f"{folder} cannot be made ({exc.strerror}); MLEXP_COMPILATION_CACHE=DIR names another")
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # a sweep's small steps add up
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", CACHE_BYTES)


def _cache_off(why: str) -> None:
    """Every job compiles, as JAX does by default; the log says why."""
    import logging

    logging.getLogger("mlexp").info("JAX compilation cache off: %s", why)


def compilation_cache_folder(environ) -> Path | None:
    """$MLEXP_COMPILATION_CACHE ("off" for none), else $XDG_CACHE_HOME/mlexp/jax (~/.cache/mlexp/jax); None
    when the user set JAX's own JAX_COMPILATION_CACHE_DIR (JAX's settings are then theirs)."""
    if environ.get("JAX_COMPILATION_CACHE_DIR") or environ.get(CACHE_ENV) == "off":
        return None
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlexp" / "jax"


def set_random_seed(keras, seed: int) -> None:
    """keras.utils.set_random_seed, which imports TensorFlow to seed it even on JAX or PyTorch (2-3 s and
    over 100 MiB). Without TensorFlow loaded, the same minus its seed: import_tensorflow seeds it later
    if tf.data is needed, before any of its random ops."""
    if "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    from mlexp.compat import set_global_seed

    if not set_global_seed(keras, seed):
        keras.utils.set_random_seed(seed)
        return
    global _PENDING_SEED
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
    _PENDING_SEED = seed


_PENDING_SEED: int | None = None  # the run's seed, for TensorFlow when it is imported after seeding


def without_tensorflow(keras) -> None:
    """Tell Keras that TensorFlow is absent, where nothing of the run needs it (Keras on JAX or PyTorch
    reading NumPy batches). Keras imports TensorFlow whenever it is installed just to ask whether an
    object is one of its types (saving a model, seeding): 2-3 s and over 100 MiB. import_tensorflow
    undoes it."""
    from mlexp.compat import hide_tensorflow

    if "tensorflow" not in sys.modules and keras.backend.backend() != "tensorflow":
        hide_tensorflow()


def import_tensorflow():
    """Return the tensorflow module, imported with its start-up banner filtered out of stderr."""
    from mlexp.compat import reveal_tensorflow

    reveal_tensorflow()  # Keras looks for it again (without_tensorflow)
    if "tensorflow" not in sys.modules:
        with _banner_filtered():
            import tensorflow
        if _PENDING_SEED is not None:
            tensorflow.random.set_seed(_PENDING_SEED)
    tensorflow = sys.modules["tensorflow"]  # also when Keras imported it (Keras on TensorFlow)
    logger = tensorflow.get_logger()
    if _expected_retracing not in logger.filters:
        logger.addFilter(_expected_retracing)
    return tensorflow


def _expected_retracing(record) -> bool:
    """Every sweep job and tuning trial builds a new model, so its predict function is traced anew:
    expected, and TensorFlow's advice about retracing loops does not apply."""
    return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _banner_filtered():
    """Native libraries print their banner to file descriptor 2 as they load: capture it, pass on the rest."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
    kept = [line for line in text.splitlines() if line.strip() and not any(b in line for b in _BANNER)]
    if kept:
        print("\n".join(kept), file=sys.stderr)


FRAMEWORKS = ("tensorflow", *EXTRAS)  # the backends Keras can run on: any of them loaded


def exit_without_teardown(code: int) -> int:
    """End a process that loaded a framework without the interpreter's final teardown (TensorFlow's takes
    about 1.2 s, which every `mlexp train` waited for nothing). What the usual exit does first still happens:
    running threads are waited for, exit handlers run (logs closed, temporary folders removed); every file
    mlexp writes is complete before (the atomic run directory). Returns `code` where the usual exit must
    happen: no framework loaded, or a Python without these hooks."""
    import atexit
    import threading

    loaded = any(name in sys.modules for name in FRAMEWORKS)
    if not loaded or not hasattr(atexit, "_run_exitfuncs") or not hasattr(threading, "_shutdown"):
        return code
    threading._shutdown()  # the interpreter's own first step: threads' exit hooks, then joins (Ctrl-C as usual)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing left to say
            stream.flush()
    os._exit(code)
