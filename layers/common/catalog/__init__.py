"""Shared code of the catalog API's functions.

A request flows through four steps, one module each:

- ``parse``  query string -> :class:`catalog.query.Query` (validated, typed)
- ``plan``   Query -> :class:`catalog.plan.Plan` (which index partitions to read, in which key range)
- ``fetch``  Plan -> index entries and records, reading as little as the query allows
- ``shape``  records -> the JSON the client gets

``operations`` strings the four together per operation (list, count, get, random);
``store`` is the only module that talks to DynamoDB.
"""
