"""``make load``: a bounded load test of the local stack (see ``devtools.load.__main__``)."""
