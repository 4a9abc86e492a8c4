"""The routes an app serves, read from `app.routes` (included routers flattened as FastAPI does)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class ServedRoute:
    method: str
    path: str

    @property
    def parameters(self) -> list[str]:
        return _PATH_PARAMETER.findall(self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/v1")

    def url(self, values: dict[str, str]) -> str:
        return _PATH_PARAMETER.sub(lambda match: values[match.group(1)], self.path)


def served_routes(app: FastAPI) -> list[ServedRoute]:
    """Every (method, path) of the app's API and page routes, in declaration order."""
    return [
        ServedRoute(method=method, path=context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path is not None
        for method in sorted(context.methods or ())
    ]
