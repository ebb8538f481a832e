"""Helpers shared by the course notebooks: data loading, exercise checks, plots, parameter formulas."""
