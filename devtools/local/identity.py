"""The local identity provider: a Cognito user pool served by moto, and the calls that set it up and sign in.

moto's server implements the ``cognito-idp`` API well enough for ``aws cognito-idp initiate-auth
--endpoint-url ...`` to behave as against AWS: ``USER_PASSWORD_AUTH`` returns RS256 access tokens
(``iss``, ``sub``, ``client_id``, ``token_use``, ``scope``, ``exp``, ``iat``, ``username``), and the
key set is at ``http://HOST:PORT/<user_pool_id>/.well-known/jwks.json``.

Two things differ from AWS, both on purpose and both visible here:

* the tokens' ``iss`` is the real AWS URL (``https://cognito-idp.<region>.amazonaws.com/<pool id>``),
  so whoever verifies them gets the key set's location from :attr:`UserPool.jwks_url`, not from ``iss``;
* a user's ``sub`` can be chosen. Cognito (and moto) assign it at random and ignore a ``sub`` in
  ``UserAttributes``; locally it must equal an owner id of the catalog, so that ``ownerIds=me``
  finds songs. The server therefore has one extra, non-AWS route,
  ``PUT /_local/user-pools/<pool id>/users/<username>/sub`` (JSON ``{"sub": "<uuid>"}``), which sets
  it inside moto. Everything else, sign-in included, goes through the ordinary Cognito API.

The server (:mod:`devtools.local.identity_server`) runs in a child process that
:class:`IdentityProvider` starts and stops, never in the caller's: moto keeps its state in module
globals, which ``mock_aws`` in the unit tests resets.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import botocore.session
import jwt

from devtools import REGION, REPO_ROOT
from devtools.local import processes

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0

# One password for every local user (the demo user and those `make token --user` creates): the
# pool lives in a local process and holds no secrets.
LOCAL_PASSWORD = "Local-Passw0rd"
DEMO_USERNAME = "demo"
"""The demo user ``make run`` and ``make load`` sign in as."""
PASSWORD_POLICY = {  # Cognito's defaults, stated so that moto checks passwords the same way
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
# moto signs every request's tokens itself; the service only wants some credentials to parse requests.
_DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class IdentityError(RuntimeError):
    """The local identity provider could not be started, reached or set up."""


@dataclass(frozen=True)
class UserPool:
    """A user pool on the local identity provider, and the app client the API accepts."""

    endpoint_url: str
    user_pool_id: str
    client_id: str
    region: str = REGION

    @property
    def issuer(self) -> str:
        """The ``iss`` of its tokens: the AWS URL, as moto writes it."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where its signing keys really are: on the local server, not at ``iss``."""
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    def client(self) -> Any:
        return cognito_client(self.endpoint_url, self.region)

    def to_dict(self) -> dict[str, str]:
        return {**asdict(self), "issuer": self.issuer, "jwks_url": self.jwks_url}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserPool:
        return cls(
            endpoint_url=data["endpoint_url"],
            user_pool_id=data["user_pool_id"],
            client_id=data["client_id"],
            region=data.get("region", REGION),
        )


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    sub: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int


@functools.cache
def cognito_client(endpoint_url: str, region: str = REGION) -> Any:
    """One client per endpoint and region (creating one costs a tenth of a second or more)."""
    return botocore.session.get_session().create_client(
        "cognito-idp", endpoint_url=endpoint_url, region_name=region, **_DUMMY_CREDENTIALS
    )


def create_user_pool(endpoint_url: str, *, name: str = "catalog-local", client_name: str = "catalog-local-app") -> UserPool:
    """A new pool with one public app client (no secret) that allows ``USER_PASSWORD_AUTH``."""
    cognito = cognito_client(endpoint_url)
    pool_id = cognito.create_user_pool(PoolName=name, Policies={"PasswordPolicy": PASSWORD_POLICY})["UserPool"]["Id"]
    pool = UserPool(endpoint_url=endpoint_url, user_pool_id=pool_id, client_id="")
    return UserPool(endpoint_url=endpoint_url, user_pool_id=pool_id, client_id=create_app_client(pool, client_name))


def create_app_client(pool: UserPool, name: str) -> str:
    """Another public app client in the pool (``USER_PASSWORD_AUTH`` allowed); returns its id."""
    response = pool.client().create_user_pool_client(
        UserPoolId=pool.user_pool_id,
        ClientName=name,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    return response["UserPoolClient"]["ClientId"]


def ensure_user(pool: UserPool, sub: str, *, username: str | None = None, password: str = LOCAL_PASSWORD) -> Credentials:
    """A confirmed user whose ``sub`` is ``sub``, with a permanent ``password``: found, or created.

    A new user is named ``username`` (default: the ``sub`` itself). The password is (re)set every
    time, so that the caller can always sign in.
    """
    cognito = pool.client()
    existing = cognito.list_users(UserPoolId=pool.user_pool_id, Filter=f'sub = "{sub}"', Limit=1)["Users"]
    if existing:
        username = existing[0]["Username"]
    else:
        username = username or sub
        cognito.admin_create_user(
            UserPoolId=pool.user_pool_id,
            Username=username,
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
        )
        _pin_sub(pool, username, sub)
    cognito.admin_set_user_password(UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True)
    attributes = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=username)["UserAttributes"]
    actual = next((attribute["Value"] for attribute in attributes if attribute["Name"] == "sub"), None)
    if actual != sub:
        raise IdentityError(f"user {username!r} has sub {actual!r}, not {sub!r}")
    return Credentials(username=username, password=password, sub=sub)


def sign_in(pool: UserPool, credentials: Credentials, *, client_id: str | None = None) -> Tokens:
    """``InitiateAuth`` with ``USER_PASSWORD_AUTH``, through the pool's app client or ``client_id``."""
    response = pool.client().initiate_auth(
        ClientId=client_id or pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": credentials.username, "PASSWORD": credentials.password},
    )
    if "AuthenticationResult" not in response:
        raise IdentityError(f"sign-in of {credentials.username!r} asks for {response.get('ChallengeName')!r}")
    result = response["AuthenticationResult"]
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result.get("RefreshToken", ""),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


def issue_token(pool: UserPool, credentials: Credentials) -> str:
    """A fresh access token of ``credentials``' user from ``pool``, checked to carry that user's sub."""
    token = sign_in(pool, credentials).access_token
    sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    if sub != credentials.sub:
        raise IdentityError(f"the local identity provider issued a token for sub {sub!r} instead of {credentials.sub!r}")
    return token


def _pin_sub(pool: UserPool, username: str, sub: str) -> None:
    request = urllib.request.Request(
        f"{pool.endpoint_url}/_local/user-pools/{pool.user_pool_id}/users/{urllib.parse.quote(username, safe='')}/sub",
        data=json.dumps({"sub": sub}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except urllib.error.HTTPError as error:
        raise IdentityError(
            f"cannot set the sub of {username!r}: {error.code} {error.read().decode(errors='replace')}"
        ) from error


class IdentityProvider(processes.ChildProcess):
    """The identity server as a child process. ``port=0`` lets the system choose one."""

    name = "identity provider"
    stop_timeout = STOP_TIMEOUT_S

    def __init__(self, *, log_path: Path, port: int = 0, host: str = HOST, startup_timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.log_path = Path(log_path)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        super().__init__()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> IdentityProvider:
        if self._process is not None:
            raise IdentityError("this identity provider is already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_stream = self.log_path.open("wb")
        started = time.monotonic()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.local.identity_server",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--parent-pid",
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # one line, {"port": N}, once it listens
            stderr=self._log_stream,
            cwd=REPO_ROOT,
            process_group=0,  # see DynamoDBLocal.start: the orchestrator stops it, not the terminal's Ctrl-C
        )
        try:
            self.port = self._read_ready_line(started + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        log.info(
            "identity provider (moto cognito-idp) ready on %s (pid %d) in %.1f s",
            self.endpoint_url,
            self._process.pid,
            time.monotonic() - started,
        )
        return self

    def _read_ready_line(self, deadline: float) -> int:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([stdout], [], [], max(remaining, 0))
        line = stdout.readline() if ready else b""
        if not line:
            status = self._process.poll()
            what = f"exited with status {status}" if status is not None else f"did not start within {self.startup_timeout:.0f} s"
            raise IdentityError(
                f"the identity provider {what}. Last lines of {self.log_path}:\n{processes.log_tail(self.log_path)}"
            )
        return int(json.loads(line)["port"])
