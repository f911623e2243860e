"""The command lines: each ``python -m devtools.cli.<name>``, most behind a ``make`` target.

A command parses its arguments, calls the libraries of the other packages and reports; nothing
imports a command but its own tests.
"""
