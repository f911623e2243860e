"""The requests of a load run: the bench's query mix (``devtools.bench.mix``) as request targets.

Every shape becomes one ``GET`` target, in the mix's order, with its route (method and resource of
the template, e.g. ``GET /v1/songs/{songId}``) for the per-route figures. A cursor page (a shape
that ``follows`` another) is the ``Link: rel="next"`` of that shape's answer; when that answer has
none (a catalog smaller than the deep offset), the shape is left out and said so.

``check`` requests every target once, in order, before the load: each must answer 2xx, so that
any non-2xx during the run is an error, never an expected answer. It also warms the functions up.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from devtools.bench.mix import Shape
from devtools.template.api import Api

_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')
TIMEOUT_S = 60.0


class TargetError(RuntimeError):
    """A shape of the mix does not answer 2xx: the load would count errors that are the mix's."""


@dataclass(frozen=True)
class Target:
    name: str
    route: str
    target: str
    """Path and query, as sent."""
    timeout_s: int
    """The timeout of the function serving it: a slower answer is one Lambda would have cut short."""

    def to_dict(self) -> dict[str, str | int]:
        return {"name": self.name, "route": self.route, "target": self.target, "timeout_s": self.timeout_s}


def _target(api: Api, name: str, target: str) -> Target:
    path = urlsplit(target).path
    found = api.route("GET", path)
    if found is None:
        raise TargetError(f"no route of the template serves GET {path}")
    route = found[0]
    return Target(name, f"GET {route.resource}", target, route.function.timeout_s)


def _get(connection: http.client.HTTPConnection, target: str, authorization: str) -> http.client.HTTPResponse:
    connection.request("GET", target, headers={"Authorization": authorization})
    response = connection.getresponse()
    response.read()
    return response


def resolve(shapes: list[Shape], api: Api, base_url: str, authorization: str) -> tuple[list[Target], list[str]]:
    """(every target, checked to answer 2xx; notes on the shapes left out)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=TIMEOUT_S)
    targets: list[Target] = []
    notes: list[str] = []
    next_links: dict[str, str | None] = {}
    try:
        for shape in shapes:
            if shape.follows is not None:
                link = next_links.get(shape.follows)
                if link is None:
                    notes.append(f'{shape.name}: left out, the answer to "{shape.follows}" has no Link rel="next"')
                    continue
                target = link
            else:
                target = shape.path + (f"?{urlencode(shape.params)}" if shape.params else "")
            response = _get(connection, target, authorization)
            if not 200 <= response.status < 300:
                raise TargetError(f"{shape.name}: GET {target} answered {response.status}, not 2xx")
            match = _NEXT_LINK.search(response.getheader("Link") or "")
            if match:
                parts = urlsplit(match.group(1))
                next_links[shape.name] = f"{parts.path}?{parts.query}" if parts.query else parts.path
            targets.append(_target(api, shape.name, target))
    finally:
        connection.close()
    return targets, notes
