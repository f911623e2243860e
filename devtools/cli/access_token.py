"""``make token``: print an access token from the running local stack, and nothing else, on stdout.

    python -m devtools.cli.access_token              # the demo user's
    python -m devtools.cli.access_token --user UUID  # a user whose sub is UUID (created in the local pool if needed)

    curl -H "Authorization: Bearer $(make token)" http://127.0.0.1:3000/v1/songs

Needs ``make run`` running in another terminal (it reads ``.local/stack.json``). Errors go to
stderr, with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from botocore.exceptions import BotoCoreError, ClientError

from devtools.local.identity import IdentityError, ensure_user, issue_token
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.access_token", description=__doc__.split("\n\n")[0])
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
