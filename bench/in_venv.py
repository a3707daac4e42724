"""Imported first by each bench (after the project root is put on ``sys.path``): ``python
bench/X.py`` with a python outside the project's ``.venv`` runs again as ``.venv/bin/python
bench/X.py`` (``bench.venv.reexec``), before any third-party import can fail."""

from bench.venv import reexec

reexec()
