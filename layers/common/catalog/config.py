"""Settings from the environment, validated once per process."""

from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=3, max_length=255, validation_alias="TABLE_NAME")


@cache
def settings() -> Settings:
    import os

    return Settings.model_validate(os.environ)
