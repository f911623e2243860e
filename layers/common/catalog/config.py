"""Settings from the environment, validated once per process."""

from functools import cache

from pydantic import BaseModel, Field, SecretStr


class Settings(BaseModel):
    table_name: str = Field(min_length=3, max_length=255, validation_alias="TABLE_NAME")
    cursor_key: SecretStr | None = Field(default=None, min_length=32, validation_alias="CURSOR_KEY")
    """The secret paging cursors are sealed with (list functions only; see ``catalog.cursor``)."""


@cache
def settings() -> Settings:
    import os

    return Settings.model_validate(os.environ)
