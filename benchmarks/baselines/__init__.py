"""Published peers the diagnosis benchmark runs side by side with shopfloor.

* :mod:`baselines.wdcnn`: WDCNN (Zhang et al. 2017), a 1-D CNN on raw 2,048-sample windows.
* :mod:`baselines.tsfresh_rf`: tsfresh ``EfficientFCParameters`` features + random forest, the
  popular general-purpose reference.

Both are benchmark-only: they import torch / tsfresh inside their functions, and nothing in
``src/shopfloor`` imports them. Import with ``benchmarks/`` on ``sys.path``
(``from baselines import wdcnn``).
"""
