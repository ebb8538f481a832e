"""Helpers shared by the course notebooks: data loading, exercise checks, plots, parameter
formulas, paired comparisons of two models (:mod:`utils.stats`)."""
