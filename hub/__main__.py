"""``python -m hub``: the same as the ``refund-hub`` command."""

from hub.cli import main

main()
