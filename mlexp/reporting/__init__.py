"""Plots, tables and reports built from run directories."""
