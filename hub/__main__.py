"""``python -m hub``: the same as the ``refund-hub`` command."""

from hub.cli.main import main

main()
