"""A folder of text files in class subfolders (layouts in mlexp.data.folders), as the IMDB notebook's
pipeline on any texts: Keras' TextVectorization adapted on the training split only, its vocabulary
saved with the run so that `mlexp predict RUN review.txt` vectorizes new texts alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mlexp.config.catalog import OWN_TEST_SPLIT, SOURCE, TASK
from mlexp.config.rules import choice, integer, optional
from mlexp.data.folders import scan
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

log = logging.getLogger(__name__)

EXTENSIONS = (".txt",)
MODES = ("multi_hot", "count", "tf_idf", "int")
RULES = {
    **SOURCE,
    **OWN_TEST_SPLIT,
    **TASK,
    "output_mode": choice(MODES),
    "max_tokens": integer(3),
    "sequence_length": optional(integer(1)),
    "ngrams": integer(1, 5),
}


@DATASETS.register("text_folder", RULES, required=("path",))
def load(cfg) -> Raw:
    found = scan(cfg, EXTENSIONS, "text")
    read = lambda paths: np.array([_read(p) for p in paths], dtype=object)  # noqa: E731
    found.x_train, found.x_test = read(found.x_train), read(found.x_test)
    if found.x_val is not None:
        found.x_val = read(found.x_val)
    encoder = TextEncoder(cfg.output_mode, cfg.max_tokens, cfg.get("sequence_length"), cfg.ngrams)
    return found.raw(max_value=1.0, encoder=encoder)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


@dataclass
class TextEncoder:
    """TextVectorization adapted on the training texts; its vocabulary (and idf weights) is the state."""

    output_mode: str = "multi_hot"
    max_tokens: int = 10000
    sequence_length: int | None = None  # output_mode=int: texts cut or padded to this many tokens
    ngrams: int = 1
    vocabulary: list[str] = field(default_factory=list)
    idf_weights: list[float] | None = None

    def _layer(self, **fitted):
        from mlexp.tf_runtime import import_keras

        keras = import_keras()
        return keras.layers.TextVectorization(
            max_tokens=self.max_tokens, output_mode=self.output_mode, ngrams=self.ngrams if self.ngrams > 1 else None,
            output_sequence_length=self.sequence_length if self.output_mode == "int" else None, **fitted,
        )  # fmt: skip

    def fit(self, texts: np.ndarray) -> dict:
        layer = self._layer()
        layer.adapt(np.asarray(texts, dtype=str))
        self.vocabulary = [str(t) for t in layer.get_vocabulary()]
        if self.output_mode == "tf_idf":  # Keras keeps them on its lookup layer only
            self.idf_weights = [float(w) for w in np.asarray(layer._lookup_layer.idf_weights)]
        log.info("TextVectorization (%s) adapted on %d training texts: %d tokens", self.output_mode, len(texts),
                 len(self.vocabulary))  # fmt: skip
        return {"text": self.state()}

    def transform(self, texts: np.ndarray) -> np.ndarray:
        if not len(texts):
            width = self.sequence_length or 1 if self.output_mode == "int" else len(self.vocabulary)
            return np.zeros((0, width), np.float32)
        # The vocabulary as adapt made it, special tokens ('' and [UNK]) included, with one idf weight per token.
        fitted = {"vocabulary": self.vocabulary}
        if self.idf_weights is not None:
            fitted["idf_weights"] = self.idf_weights
        out = np.asarray(self._layer(**fitted)(np.asarray(texts, dtype=str)))
        return out.astype(np.int32 if self.output_mode == "int" else np.float32)

    def state(self) -> dict:
        return {
            "output_mode": self.output_mode, "max_tokens": self.max_tokens, "sequence_length": self.sequence_length,
            "ngrams": self.ngrams, "vocabulary": self.vocabulary, "idf_weights": self.idf_weights,
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict) -> TextEncoder:
        return cls(**state)
