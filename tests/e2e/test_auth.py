"""The local gateway's Cognito authorizer and its own answers, over real HTTP.

Every refused request gets the template's UNAUTHORIZED gateway response; an unknown route gets its
MISSING_AUTHENTICATION_TOKEN response, token or not; and neither reaches a handler (the gateway's
invoker records every call, see ``HandlerCalls``). Forged tokens change one thing at a time of an
otherwise valid token (``test_forged_token_with_nothing_wrong_passes`` is the control, and proves
that the recorder does see the handler).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.utils import base64url_encode

from devtools.local.identity import sign_in
from devtools.template import table
from tests.e2e.conftest import OTHER_OWNER

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

COUNT = "/v1/songs/count"


def gateway_answer(response_type: str, message: str) -> tuple[int, Any]:
    """Status and body of the template's gateway response ``response_type`` for ``message``."""
    api = next(
        resource["Properties"]
        for resource in table.load_template()["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Api"
    )
    response = api["GatewayResponses"][response_type]
    template = response["ResponseTemplates"]["application/json"]
    return int(response["StatusCode"]), json.loads(template.replace("$context.error.messageString", json.dumps(message)))


UNAUTHORIZED = gateway_answer("UNAUTHORIZED", "Unauthorized")
EXPIRED = gateway_answer("UNAUTHORIZED", "The incoming token has expired")
NO_ROUTE = gateway_answer("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


def assert_refused(reply: Any, expected: tuple[int, Any]) -> None:
    """The gateway answered ``expected`` itself: no function ran."""
    assert (reply.status, reply.json()) == expected
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.handlers == ()


def pool_signing_key() -> jwt.PyJWK:
    """The private key every moto user pool signs with (moto ships it): for valid-but-for-one-thing tokens."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256")


def forge(stack: Any, *, key: Any = None, algorithm: str = "RS256", kid: str | None = "dummy", **changes: Any) -> str:
    """An access token of the demo user as the pool issues it, with ``changes`` (``None`` drops a claim)."""
    now = int(time.time())
    claims = {
        "iss": stack.pool.issuer,
        "sub": stack.demo.sub,
        "client_id": stack.pool.client_id,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": "00000000-0000-4000-8000-0000000000aa",
        "username": stack.demo.username,
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key if key is not None else pool_signing_key().key, algorithm=algorithm, headers=headers)


def another_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- the token is missing or unreadable ----------------------------------------------------------


def test_no_authorization_header_is_401(local_stack):
    assert_refused(local_stack.request(COUNT), UNAUTHORIZED)


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "not-a-jwt", "Bearer abc.def.ghi"])
def test_malformed_authorization_is_401(local_stack, value):
    assert_refused(local_stack.request(COUNT, headers={"Authorization": value}), UNAUTHORIZED)


def test_truncated_token_is_401(local_stack, demo_tokens):
    assert_refused(local_stack.request(COUNT, token=demo_tokens.access_token[:-10]), UNAUTHORIZED)


# --- the token is not the pool's -----------------------------------------------------------------


def test_expired_token_is_401_with_the_expiry_message(local_stack):
    now = int(time.time())
    token = forge(local_stack, iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    assert_refused(local_stack.request(COUNT, token=token), EXPIRED)


def test_token_signed_by_another_key_with_the_pools_kid_is_401(local_stack):
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, key=another_private_key())), UNAUTHORIZED)


def test_token_whose_claims_were_changed_after_signing_is_401(local_stack):
    """The pool's genuine signature, over other claims: the ``sub`` is swapped for another user's."""
    header, _, signature = forge(local_stack).split(".")
    claims = jwt.decode(forge(local_stack), options={"verify_signature": False})
    payload = base64url_encode(json.dumps({**claims, "sub": OTHER_OWNER}).encode()).decode()
    assert_refused(local_stack.request(COUNT, token=f"{header}.{payload}.{signature}"), UNAUTHORIZED)


def test_token_with_a_corrupted_signature_is_401(local_stack):
    header, payload, signature = forge(local_stack).split(".")
    corrupted = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_refused(local_stack.request(COUNT, token=f"{header}.{payload}.{corrupted}"), UNAUTHORIZED)


def test_token_with_an_unknown_kid_is_401(local_stack):
    token = forge(local_stack, key=another_private_key(), kid="not-in-the-jwks")
    assert_refused(local_stack.request(COUNT, token=token), UNAUTHORIZED)


def test_token_of_another_issuer_is_401(local_stack):
    token = forge(local_stack, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SomeoneElse")
    assert_refused(local_stack.request(COUNT, token=token), UNAUTHORIZED)


def test_unsigned_token_alg_none_is_401(local_stack):
    token = jwt.encode(jwt.decode(forge(local_stack), options={"verify_signature": False}), "", algorithm="none")  # "": no key
    assert_refused(local_stack.request(COUNT, token=token), UNAUTHORIZED)


def test_hs256_token_keyed_with_the_public_key_is_401(local_stack):
    public_pem = (
        pool_signing_key()
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = jwt.decode(forge(local_stack), options={"verify_signature": False})
    header = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "dummy"}).encode())
    payload = base64url_encode(json.dumps(claims).encode())
    # PyJWT refuses to use a public key as an HMAC secret, so the token is put together by hand.
    signature = base64url_encode(hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest())
    token = b".".join([header, payload, signature]).decode()
    assert_refused(local_stack.request(COUNT, token=token), UNAUTHORIZED)


def test_token_issued_in_the_future_is_401(local_stack):
    later = int(time.time()) + 600
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, iat=later, exp=later + 3600)), UNAUTHORIZED)


def test_token_not_valid_before_a_later_time_is_401(local_stack):
    later = int(time.time()) + 600
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, nbf=later)), UNAUTHORIZED)


def test_token_without_exp_is_401(local_stack):
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, exp=None)), UNAUTHORIZED)


# --- a genuine token, but not one these routes take ----------------------------------------------


def test_id_token_is_401(local_stack, demo_tokens):
    assert_refused(local_stack.request(COUNT, token=demo_tokens.id_token), UNAUTHORIZED)


def test_access_token_of_another_app_client_is_401(local_stack):
    tokens = sign_in(local_stack.pool, local_stack.demo, client_id=local_stack.other_client_id)
    assert jwt.decode(tokens.access_token, options={"verify_signature": False})["client_id"] == local_stack.other_client_id
    assert_refused(local_stack.request(COUNT, token=tokens.access_token), UNAUTHORIZED)


def test_access_token_naming_an_unknown_client_id_is_401(local_stack):
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, client_id="not-an-app-client")), UNAUTHORIZED)


def test_access_token_without_the_routes_scope_is_401(local_stack):
    assert_refused(local_stack.request(COUNT, token=forge(local_stack, scope="openid profile")), UNAUTHORIZED)


# --- what passes ---------------------------------------------------------------------------------


def assert_handled(reply: Any) -> None:
    assert reply.status != 401, reply.body
    assert reply.handlers == ("CountFunction",)


def test_forged_token_with_nothing_wrong_passes(local_stack):
    assert_handled(local_stack.request(COUNT, token=forge(local_stack)))


def test_demo_access_token_passes(local_stack, demo_tokens):
    assert_handled(local_stack.request(COUNT, token=demo_tokens.access_token))


def test_token_without_bearer_prefix_passes(local_stack, demo_tokens):
    assert_handled(local_stack.request(COUNT, headers={"Authorization": demo_tokens.access_token}))


# --- routes the template does not declare --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/nothing"), ("GET", "/"), ("POST", "/v1/songs"), ("DELETE", "/v1/songs/x")]
)
def test_unknown_route_answers_missing_authentication_token(local_stack, demo_tokens, method, path):
    assert_refused(local_stack.request(path, method=method), NO_ROUTE)
    assert_refused(local_stack.request(path, method=method, token=demo_tokens.access_token), NO_ROUTE)


# --- through to the handlers -----------------------------------------------------------------------


def test_authorized_request_reaches_the_handler(local_stack, demo_tokens, catalog):
    reply = local_stack.request("/v1/songs?limit=2", token=demo_tokens.access_token)
    assert reply.status == 200, reply.body
    assert [song["id"] for song in reply.json()] == [
        "0a7e3c1d-2b4f-4e6a-8c9d-1e2f3a4b5c6d",
        "1b8f4d2e-3c5a-4f7b-9d0e-2f3a4b5c6d7e",
    ]


def test_the_tokens_sub_is_the_callers_id(local_stack, demo_tokens, catalog):
    """``ownerIds=me`` resolves to the ``sub`` the authorizer hands over in ``requestContext.authorizer.claims``."""
    mine = local_stack.request(f"{COUNT}?ownerIds=me", token=demo_tokens.access_token)
    everyone = local_stack.request(COUNT, token=demo_tokens.access_token)
    assert (mine.status, mine.json(), everyone.json()) == (200, {"count": 2}, {"count": 3})
