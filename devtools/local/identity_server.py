"""The local identity server, run in a child process by :class:`devtools.local.identity.IdentityProvider`.

    python -m devtools.local.identity_server [--host 127.0.0.1] [--port 0] [--parent-pid PID]

moto's ``cognito-idp`` server, plus the one local-only route that sets a user's ``sub``
(``PUT /_local/user-pools/<pool id>/users/<username>/sub``, see :mod:`devtools.local.identity`).
It prints ``{"port": N}`` on stdout once it listens, and exits when its parent is gone. It runs
in a process of its own because moto keeps its state in module globals, which ``mock_aws`` in the
unit tests resets.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.request
from typing import Any

from devtools.local.identity import HOST

_PIN_ROUTE = re.compile(r"^/_local/user-pools/(?P<pool>[^/]+)/users/(?P<username>[^/]+)/sub$")


def _find_moto_user(user_pool_id: str, username: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    region = user_pool_id.split("_", 1)[0]
    for account_backends in list(cognitoidp_backends.values()):
        backend = account_backends.get(region)
        pool = backend.user_pools.get(user_pool_id) if backend is not None else None
        if pool is not None:
            return pool, pool.users.get(username)
    return None, None


class _SubPinningApp:
    """WSGI: moto's application, plus the one local-only route that sets a user's ``sub``."""

    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _PIN_ROUTE.match(environ.get("PATH_INFO", ""))
        if match is None:
            return self.moto_app(environ, start_response)
        if environ["REQUEST_METHOD"] != "PUT":
            return _answer(start_response, 405, {"message": "use PUT"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            sub = str(json.loads(environ["wsgi.input"].read(length))["sub"])
        except (ValueError, KeyError, TypeError):
            return _answer(start_response, 400, {"message": 'body must be {"sub": "<uuid>"}'})
        pool, user = _find_moto_user(match["pool"], urllib.parse.unquote(match["username"]))
        if user is None:
            return _answer(start_response, 404, {"message": "no such user pool or user"})
        if any(other is not user and other.id == sub for other in pool.users.values()):
            return _answer(start_response, 409, {"message": f"another user already has sub {sub}"})
        # moto reads the sub of tokens from `id`, and of AdminGetUser/ListUsers from the attribute.
        user.id = sub
        user.update_attributes([{"Name": "sub", "Value": sub}])
        return _answer(start_response, 200, {"username": user.username, "sub": sub})


def _answer(start_response: Any, status: int, body: dict[str, Any]) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
    payload = json.dumps(body).encode()
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _exit_when_orphaned(parent_pid: int) -> None:
    """Stop the server if whoever started it is gone (killed without cleaning up)."""
    while os.getppid() == parent_pid:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def serve(host: str, port: int, parent_pid: int | None) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    signal.signal(signal.SIGINT, lambda signum, frame: sys.exit(0))
    app = _SubPinningApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.port)  # moto builds some URLs from it
    if parent_pid is not None:
        threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    sys.stdout.write(json.dumps({"port": server.port}) + "\n")  # the parent waits for this line
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local.identity_server",
        description="Serve the local Cognito (moto cognito-idp, plus PUT /_local/user-pools/<id>/users/<name>/sub).",
    )
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help='0: any free port (printed as {"port": N} on stdout)')
    parser.add_argument("--parent-pid", type=int, help="exit when this process is no longer the parent")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(args.host, args.port, args.parent_pid)


if __name__ == "__main__":
    main()
