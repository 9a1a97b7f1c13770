"""The OpenAPI document of the full application is complete enough to build a client from.

The walk goes over the real schema of `build_app(config, bridge=False)`, so a route added later
is held to the same rules without touching this file: a summary; a description stating its roles
(`_document_roles` in hotline/api/app.py); its error responses documented with the API's error
body; and an example for every JSON request body and 2xx JSON response (given directly, or by
field examples that compose into one) that the schema itself accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from hotline.api.app import OPENAPI_URL, ROLES_HEADING
from hotline.config import load_config
from hotline.wiring import build_app
from tests.api.conftest import REPO

JSON = "application/json"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
ERROR_SCHEMA = "#/components/schemas/ErrorResponse"
AUTH_ERRORS = ("401", "403")
INPUT_ERROR = "422"
SELF_EVIDENT_TYPES = frozenset({"boolean", "null"})
"""A value of these types needs no example: there is nothing to guess."""
MAX_DEPTH = 12

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    """The document as a client fetches it (through the app, after every hook ran)."""
    folder = tmp_path_factory.mktemp("openapi")
    config = load_config(REPO / "hotline.conf", overrides={"database.url": f"sqlite:///{folder}/t.db"})
    with TestClient(build_app(config, bridge=False)) as client:
        response = client.get(OPENAPI_URL)
    assert response.status_code == 200, response.text
    return response.json()


def operations(document: Schema) -> Iterator[tuple[str, Schema]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def resolve(document: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"external reference {ref}"
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        schema = target
    return schema


def has_example(document: Schema, schema: Schema, depth: int = 0) -> bool:
    """Whether a whole example value can be read off the schema."""
    assert depth < MAX_DEPTH, "schema nests too deep (a reference cycle?)"
    schema = resolve(document, schema)
    if schema.get("examples") or "example" in schema or "enum" in schema or "const" in schema:
        return True
    if schema.get("type") in SELF_EVIDENT_TYPES:
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if branches:
        return all(has_example(document, branch, depth + 1) for branch in branches)
    if schema.get("type") == "array":
        return "items" in schema and has_example(document, schema["items"], depth + 1)
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties")
        return bool(properties) and all(has_example(document, p, depth + 1)
                                        for p in properties.values())
    return False


def example_of(document: Schema, schema: Schema, depth: int = 0) -> Any:
    """The example `has_example` found, composed from field examples where needed."""
    schema = resolve(document, schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        useful = [b for b in branches if resolve(document, b).get("type") != "null"] or branches
        return example_of(document, useful[0], depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for branch in schema["allOf"]:
            merged.update(example_of(document, branch, depth + 1))
        return merged
    if kind == "array":
        return [example_of(document, schema["items"], depth + 1)]
    return {name: example_of(document, prop, depth + 1)
            for name, prop in schema.get("properties", {}).items()}


def validation_errors(document: Schema, schema: Schema, instance: Any) -> list[str]:
    """Why `instance` does not fit `schema` (references resolve inside the document)."""
    root = {**schema, "components": document.get("components", {})}
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    return [f"{'/'.join(map(str, error.instance_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(instance)]


def json_schemas(document: Schema) -> Iterator[tuple[str, Schema, Schema]]:
    """(where, media type object, schema) for every JSON request body and 2xx JSON response."""
    for name, operation in operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get(JSON)
        if body is not None:
            yield f"{name} request body", body, body.get("schema", {})
        for status, response in operation.get("responses", {}).items():
            media = response.get("content", {}).get(JSON)
            if status.startswith("2") and media is not None:
                yield f"{name} {status} response", media, media.get("schema", {})


def media_examples(document: Schema, media: Schema, schema: Schema) -> list[Any]:
    """Examples given on the media type itself, else the one the schema carries."""
    if "example" in media:
        return [media["example"]]
    if media.get("examples"):
        return [e.get("value") for e in media["examples"].values()]
    return [example_of(document, schema)] if has_example(document, schema) else []


def test_the_walk_sees_the_whole_application(document: Schema) -> None:
    names = {name for name, _ in operations(document)}

    # Core, seats, calls, voicemail, callbacks and three-way routes are all there.
    assert {"GET /api/me", "GET /api/health", "GET /api/seats", "GET /api/calls",
            "GET /api/voicemails", "GET /api/callbacks", "POST /api/threeway/calls/{linkedid}/start",
            "POST /api/seats/{seat_id}/pause"} <= names
    assert len(list(json_schemas(document))) > len(names) / 2


def test_every_operation_has_a_summary_and_states_its_roles(document: Schema) -> None:
    missing_summary = [name for name, op in operations(document) if not op.get("summary", "").strip()]
    missing_roles = [name for name, op in operations(document)
                     if ROLES_HEADING not in op.get("description", "")]

    assert missing_summary == []
    assert missing_roles == []


def test_every_operation_documents_its_errors_with_the_error_body(document: Schema) -> None:
    problems = []
    for name, operation in operations(document):
        responses = operation.get("responses", {})
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        needed = (*AUTH_ERRORS, INPUT_ERROR) if takes_input else AUTH_ERRORS
        problems += [f"{name}: {status} not documented" for status in needed if status not in responses]
        for status, response in responses.items():
            if status[0] not in "45":
                continue
            if not response.get("description", "").strip():
                problems.append(f"{name}: {status} has no description")
            schema = response.get("content", {}).get(JSON, {}).get("schema", {})
            if schema.get("$ref") != ERROR_SCHEMA:
                problems.append(f"{name}: {status} body is not documented as ErrorResponse")

    assert problems == []


def test_the_error_body_is_the_one_errors_py_renders(document: Schema) -> None:
    error = resolve(document, {"$ref": ERROR_SCHEMA})
    info = resolve(document, error["properties"]["error"])

    assert error["required"] == ["error"]
    assert set(info["properties"]) == {"code", "message", "detail"}
    assert {"code", "message"} <= set(info["required"])


def test_every_json_body_and_success_response_carries_an_example(document: Schema) -> None:
    missing = [where for where, media, schema in json_schemas(document)
               if not media_examples(document, media, schema)]

    assert missing == []


def test_every_example_fits_its_own_schema(document: Schema) -> None:
    """An example that contradicts its schema misleads more than no example at all."""
    wrong = []
    for where, media, schema in json_schemas(document):
        for example in media_examples(document, media, schema):
            wrong += [f"{where}: {error}" for error in validation_errors(document, schema, example)]
        resolved = resolve(document, schema)
        for extra in resolved.get("examples", [])[1:]:
            wrong += [f"{where} (example 2+): {error}"
                      for error in validation_errors(document, schema, extra)]

    assert wrong == []


def test_the_example_check_is_not_vacuous(document: Schema) -> None:
    """The helpers above do reject what they should."""
    bare = {"type": "object", "properties": {"n": {"type": "integer"}}}
    documented = {"type": "object", "properties": {"n": {"type": "integer", "examples": [3]}}}

    assert not has_example(document, bare)
    assert has_example(document, documented)
    assert example_of(document, documented) == {"n": 3}
    assert validation_errors(document, {"$ref": ERROR_SCHEMA}, {"error": {"code": 1}}) != []
    assert validation_errors(document, {"type": "string", "format": "date-time"}, "yesterday") != []
