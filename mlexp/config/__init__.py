"""Config schema and validation; imports no TensorFlow."""

from mlexp.config.validate import validate

__all__ = ["validate"]
