"""One module per ``python -m minigan`` command (see ``minigan/cli.py``)."""
