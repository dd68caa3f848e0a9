"""Data manipulation (DM), ISO 13374 block 2: signal processing and feature extraction.

Turns acquired samples into condition indicators: time-domain indicators today; resampling,
windowing, filters, spectra and envelope analysis next. Imports only ``core`` and
``acquisition``.
"""
