"""The catalog's records, validated with pydantic: the importer checks each line with them, and the
OpenAPI document describes the API's records with them."""
