"""``python -m shopfloor.cli``."""

from shopfloor.cli import main

main()
