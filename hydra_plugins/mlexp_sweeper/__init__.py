"""mlexp's Hydra sweeper (hydra/sweeper=mlexp, the default of `mlexp train -m`)."""
