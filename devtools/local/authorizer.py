"""Checks a request's token the way API Gateway's Cognito User Pool authorizer does.

    authorizer = CognitoAuthorizer(issuer=pool.issuer, jwks_url=pool.jwks_url, client_ids={pool.client_id})
    claims = authorizer.authorize(headers.get("Authorization"), scopes=["aws.cognito.signin.user.admin"])

``authorize`` returns the claims as ``requestContext.authorizer.claims`` carries them (every value a
string), or raises :class:`Unauthorized`. Its ``public_message`` is what API Gateway answers
(``Unauthorized``, or ``The incoming token has expired``); ``str(error)`` says what exactly is wrong
and is meant for the local log.

What is checked, in order: an ``Authorization`` header, ``Bearer <jwt>`` or the bare JWT (API
Gateway takes both); ``alg`` RS256 and nothing else; the signature, against the pool's key set
(fetched once and cached, fetched again for an unknown ``kid``); ``exp``, and ``iat``/``nbf`` not
in the future (a few seconds of leeway); ``iss``; then, as API Gateway does, a method with
authorization scopes takes only access tokens carrying one of those scopes, and a method without
takes only ID tokens. Last, the token's app client (``client_id``, or ``aud`` of an ID token) must
be one of ``client_ids``.

That last check is stricter than API Gateway, which accepts an access token of any app client of the
pool; locally it is there so that only the API's own app client gets in. ``client_ids=None`` turns
it off.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import jwt

ALGORITHM = "RS256"
LEEWAY_S = 5
JWKS_LIFESPAN_S = 24 * 3600  # the local pool's key never changes; an unknown kid forces a refetch anyway
JWKS_REFETCH_COOLDOWN_S = 5
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "token_use"]
# API Gateway renders these claims as java.util.Date.toString() does, e.g. "Sat Apr 24 20:47:46 UTC 2021".
_DATE_CLAIMS = frozenset({"exp", "iat"})
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class AuthorizerUnavailable(RuntimeError):
    """The pool's key set cannot be fetched: a local set-up problem, not the caller's fault."""


class Unauthorized(Exception):
    """The token does not pass: API Gateway answers 401 (gateway response ``UNAUTHORIZED``)."""

    public_message = "Unauthorized"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenExpired(Unauthorized):
    public_message = "The incoming token has expired"


class CognitoAuthorizer:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        client_ids: Collection[str] | None,
        leeway: float = LEEWAY_S,
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids) if client_ids is not None else None
        self.leeway = leeway
        self._keys = jwt.PyJWKClient(
            jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_LIFESPAN_S,
            cooldown_duration=JWKS_REFETCH_COOLDOWN_S,
            timeout=5,
        )

    def authorize(self, authorization: str | None, *, scopes: Iterable[str] = ()) -> dict[str, str]:
        """The verified claims, as strings; ``authorization`` is the header's value (``None`` if absent)."""
        token = _token_from_header(authorization)
        claims = self._verified_claims(token)
        _check_use_and_scopes(claims, frozenset(scopes))
        self._check_client(claims)
        return claims_as_strings(claims)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"malformed token: {error}") from error
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"token algorithm is {header.get('alg')!r}, only {ALGORITHM} is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token header has no kid")
        try:
            key = self._keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            raise AuthorizerUnavailable(f"cannot fetch the user pool's keys: {error}") from error
        except jwt.PyJWKClientError as error:
            raise Unauthorized(f"no key {kid!r} in the user pool's key set") from error
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS, "verify_aud": False},  # the app client is checked below
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenExpired("token has expired") from error
        except jwt.InvalidSignatureError as error:
            raise Unauthorized("token signature does not verify with the user pool's key") from error
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"invalid token: {error}") from error

    def _check_client(self, claims: Mapping[str, Any]) -> None:
        if self.client_ids is None:
            return
        client = claims.get("client_id") if claims["token_use"] == "access" else claims.get("aud")
        if client not in self.client_ids:
            raise Unauthorized(f"token is for app client {client!r}, which this API does not accept")


def _token_from_header(authorization: str | None) -> str:
    value = (authorization or "").strip()
    if not value:
        raise Unauthorized("no Authorization header")
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else value
    if not token:
        raise Unauthorized("Authorization header has no token")
    return token


def _check_use_and_scopes(claims: Mapping[str, Any], scopes: frozenset[str]) -> None:
    token_use = claims.get("token_use")
    if scopes:
        if token_use != "access":
            raise Unauthorized(f"token_use is {token_use!r}: a method with authorization scopes takes only access tokens")
        granted = set(str(claims.get("scope", "")).split())
        if not granted & scopes:
            raise Unauthorized(f"token scopes {sorted(granted)} include none of {sorted(scopes)}")
    elif token_use != "id":
        raise Unauthorized(f"token_use is {token_use!r}: a method without authorization scopes takes only ID tokens")


def claims_as_strings(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to a Lambda proxy integration: every value a string."""
    return {name: _as_string(name, value) for name, value in claims.items()}


def _as_string(name: str, value: Any) -> str:
    if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
        return _java_date(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_as_string("", item) for item in value) + "]"
    return str(value)


def _java_date(epoch_seconds: float) -> str:
    t = time.gmtime(epoch_seconds)
    return f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
