"""Hyper-parameter search: search spaces from YAML, keras-tuner sessions, the Optuna translation."""
