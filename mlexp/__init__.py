"""mlexp: config-driven Keras experiments. Importing this package never imports TensorFlow."""

__version__ = "0.1.0"
