"""The write side: a catalog file into the catalog table. Not deployed: no function imports it.

``load`` reads and validates a JSON Lines catalog with the records' models (``model/``, pydantic:
the only user of pydantic besides the OpenAPI document), and ``writer`` writes each record as its
postings (``postings``), at the partitions and keys of the layer's own layout (``catalog.keys``,
``catalog.indexing``). The command line is ``devtools.cli.import_catalog``.
"""
