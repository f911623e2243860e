"""The errors a request can end in. Each carries its HTTP status; ``catalog.http`` maps them once."""

from http import HTTPStatus


class ApiError(Exception):
    status: HTTPStatus = HTTPStatus.BAD_REQUEST

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class BadRequest(ApiError):
    status = HTTPStatus.BAD_REQUEST


class Unauthorized(ApiError):
    status = HTTPStatus.UNAUTHORIZED


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class InvalidArgument(ApiError):
    """A parameter the API cannot use: 422, as the reference server answers bad arguments."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


def invalid_uuid(value: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid UUID string: {value}")


def invalid_parameter(name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid value for parameter '{name}': {problem}")


class ServiceUnavailable(ApiError):
    """DynamoDB throttled, timed out or could not be reached, and retrying within the request's
    time budget did not help: 503 with ``Retry-After``.

    ``cause`` is what the client reads (nothing internal); ``reason`` (the DynamoDB error code or
    the exception's class) is only logged.
    """

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"The catalog is temporarily unavailable: retry after {retry_after} s")
        self.reason = reason
        self.retry_after = retry_after
