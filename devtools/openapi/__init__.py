"""The API's OpenAPI 3.0 document, generated from the code (``make openapi``): see :mod:`devtools.openapi.document`.

``schemas`` rewrites the models' JSON Schema in OpenAPI 3.0's dialect, ``parameters`` turns the
layer's parameter declarations into query parameters, ``operations`` makes an operation of each
route with its error answers (``bodies``: the count and error bodies' models), and ``document``
puts them together. ``python -m devtools.cli.openapi`` writes ``docs/openapi.json``.
"""
