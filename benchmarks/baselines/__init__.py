"""Published peers the diagnosis benchmark runs side by side with shopfloor.

* :mod:`baselines.wdcnn`: WDCNN (Zhang et al. 2017), a 1-D CNN on raw 2,048-sample windows,
  with or without the paper's AdaBN (batch-norm statistics re-estimated on the unlabelled test
  windows).
* :mod:`baselines.tsfresh_rf`: tsfresh ``EfficientFCParameters`` features + random forest, the
  popular general-purpose reference, with or without tsfresh's FRESH feature selection
  (fitted on the training rows only).

* :mod:`baselines.equal_signal`: 2,048-sample windows cut from one-second decision blocks and
  the soft vote that turns their probabilities into one decision per second.

``benchmarks/diagnosis_peers.py`` runs all four side by side for any list of folds and scores
them per window and at one decision per second (soft vote).

Both are benchmark-only: they import torch / tsfresh inside their functions, and nothing in
``src/shopfloor`` imports them. Import with ``benchmarks/`` on ``sys.path``
(``from baselines import wdcnn``).
"""
