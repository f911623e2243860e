"""``make token``: print an access token from the running local stack, and nothing else, on stdout.

    python -m devtools.token              # the demo user's
    python -m devtools.token --user UUID  # a user whose sub is UUID (created in the local pool if needed)

    curl -H "Authorization: Bearer $(make token)" http://127.0.0.1:3000/v1/songs

Needs ``make run`` running in another terminal (it reads ``.local/stack.json``). Errors go to
stderr, with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import uuid

import jwt
from botocore.exceptions import BotoCoreError, ClientError

from devtools.local.identity import Credentials, IdentityError, UserPool, ensure_user, sign_in
from devtools.local.state import NoStack, current_stack


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {value!r}") from None


def access_token(user: str | None) -> str:
    stack = current_stack()
    pool = stack.pool
    credentials = stack.demo_credentials if user is None else ensure_user(pool, user)
    return issue_token(pool, credentials)


def issue_token(pool: UserPool, credentials: Credentials) -> str:
    """A fresh access token of ``credentials``' user from ``pool``, checked to carry that user's sub."""
    token = sign_in(pool, credentials).access_token
    sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    if sub != credentials.sub:
        raise IdentityError(f"the local identity provider issued a token for sub {sub!r} instead of {credentials.sub!r}")
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.token", description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", type=_uuid, metavar="UUID", help="sub of the user (default: the demo user)")
    args = parser.parse_args(argv)
    try:
        token = access_token(args.user)
    except NoStack as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (IdentityError, BotoCoreError, ClientError) as error:
        print(f"error: the local identity provider (see `make run`) failed: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
