"""``make bench``: read cost and latency of the API's query mix against a naive Scan baseline.

Development tooling, never deployed. ``python -m devtools.bench --help`` lists the options;
docs/PERFORMANCE.md describes the method and holds the table of a run.
"""
