"""The API documents itself: /openapi.json is a valid OpenAPI 3.1 document and /docs shows it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

from tests.web.routes import served_routes


async def openapi_document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


class TestOpenApiDocument:
    async def test_is_a_valid_openapi_3_1_document(self, client: httpx.AsyncClient) -> None:
        document = await openapi_document(client)
        assert document["openapi"].startswith("3.1")
        validate(document, cls=OpenAPIV31SpecValidator)

    async def test_documents_every_api_route_with_its_methods(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        document = await openapi_document(client)
        documented = {
            (method, path)
            for path, operations in document["paths"].items()
            for method in operations
            if method != "parameters"
        }
        served = {
            (route.method.lower(), route.path) for route in served_routes(app) if route.is_api
        }
        assert served, "no /api/v1 route found on the app"
        assert served - documented == set()

    async def test_every_api_route_documents_its_error_answers_in_our_error_shape(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        document = await openapi_document(client)
        error_shape = "#/components/schemas/ErrorResponse"
        for route in served_routes(app):
            if not route.is_api:
                continue
            responses = document["paths"][route.path][route.method.lower()]["responses"]
            expected = {"401"} | ({"404", "422"} if route.parameters else set())
            assert expected <= set(responses), (route, sorted(responses))
            for status, answer in responses.items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_shape}, (route, status)

    async def test_live_events_are_documented_as_an_event_stream(
        self, client: httpx.AsyncClient
    ) -> None:
        document = await openapi_document(client)
        answer = document["paths"]["/api/v1/events"]["get"]["responses"]["200"]
        assert list(answer["content"]) == ["text/event-stream"]


class TestSwaggerPage:
    async def test_docs_serve_the_swagger_page_for_the_document(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "swagger-ui" in response.text
        assert "/openapi.json" in response.text
