"""Plotting helpers shared by the notebooks. Every figure has a title and labelled axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

# ------------------------------------------------------------ chapter 1: attention


# --------------------------------------------------------- chapters 2 and 4: RNNs


# ---------------------------------------------------------------- chapter 3: IMDB
