"""The layer: what the functions run besides their handlers, and nothing else (the importer is apart).

A request flows through four steps, one module each:

- ``parse``  query string -> :class:`catalog.query.Query` (validated, typed)
- ``plan``   Query -> :class:`catalog.plan.Plan` (which index partitions to read, in which key range)
- ``fetch``  Plan -> index entries and records, reading as little as the query allows
- ``shape``  records -> the JSON the client gets

``operations`` strings the four together per operation (list, count, get, random). Three modules
talk to DynamoDB: ``store``, the API functions' reads (metered, their faults answered 503), and
``counting`` with ``phrase_index``, the stream counter function's work, which reads and writes the
counters table with a client of its own (its role alone may write). All read DynamoDB's wire form
through ``wire``.
"""
