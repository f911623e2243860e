"""The catalog's records, validated with pydantic (the importer and the API share them)."""
