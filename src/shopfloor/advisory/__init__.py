"""Advisory generation (AG), the last ISO 13374 block: alerts and what to do about them."""
