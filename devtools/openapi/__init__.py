"""The API's OpenAPI 3.0 document, generated from the code (``make openapi``): see :mod:`devtools.openapi.document`.

``schemas`` rewrites the models' JSON Schema in OpenAPI 3.0's dialect, ``parameters`` turns the
layer's parameter declarations into query parameters, ``operations`` makes an operation of each
route with its error answers, and ``document`` puts them together and writes ``docs/openapi.json``.
"""
