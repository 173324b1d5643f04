"""The rules API and the live documents' API read a new source and its If-Match alike
(router/web/versioned.py): a YAML body or JSON {"source"}, any YAML content type, 415 for any
other; empty rules refused, an empty live document taken; If-Match weak or strong, 428 when a
required one is missing, naming where the ETag comes from."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kefu_common.errors import ProtocolError
from router.web.versioned import YAML_TYPES, if_match, source_of


async def _source(request: web.Request) -> web.Response:
    blank = request.query.get("blank") == "1"
    return web.json_response({"source": await source_of(request, what="the rules YAML text", blank=blank)})


async def _version(request: web.Request) -> web.Response:
    required = request.query.get("required") != "0"
    return web.json_response({"version": if_match(request, etag_of="GET /x", required=required)})


@web.middleware
async def _refusals(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProtocolError as exc:
        return web.json_response({"error": exc.code, "detail": exc.detail}, status=exc.status)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application(middlewares=[_refusals])
    app.router.add_post("/source", _source)
    app.router.add_get("/version", _version)
    async with TestClient(TestServer(app)) as c:
        yield c


SOURCES = [f"pools:\n  - id: p{i}\n    name: 池{i}\n" + "  # note\n" * (i % 3) for i in range(60)]


async def test_every_yaml_type_and_json_give_the_source(client: TestClient[web.Request, web.Application]) -> None:
    for i, text in enumerate(SOURCES):
        ctype = YAML_TYPES[i % len(YAML_TYPES)]
        resp = await client.post("/source", data=text.encode(), headers={"Content-Type": ctype})
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["source"] == text
        resp = await client.post("/source", json={"source": text})
        assert (await resp.json())["source"] == text


@pytest.mark.parametrize("ctype", ["application/xml", "image/png", "multipart/form-data; boundary=x"])
async def test_another_type_is_415(client: TestClient[web.Request, web.Application], ctype: str) -> None:
    resp = await client.post("/source", data=b"a: 1", headers={"Content-Type": ctype})
    assert resp.status == 415
    assert (await resp.json())["error"] == "bad_request"


@pytest.mark.parametrize("body", ["", "   ", "\n\n"])
async def test_a_blank_source_is_refused_or_taken_as_asked(client: TestClient[web.Request, web.Application],
                                                          body: str) -> None:
    refused = await client.post("/source", data=body.encode(), headers={"Content-Type": "text/yaml"})
    assert refused.status == 400
    assert (await refused.json())["detail"] == '"source" must be the rules YAML text'
    taken = await client.post("/source?blank=1", json={"source": body})
    assert taken.status == 200
    assert (await taken.json())["source"] == body


@pytest.mark.parametrize("source", [None, 7, ["a"], {"a": 1}])
async def test_a_source_that_is_not_text_is_refused(client: TestClient[web.Request, web.Application],
                                                    source: object) -> None:
    resp = await client.post("/source?blank=1", json={"source": source})
    assert resp.status == 400


async def test_if_match_weak_or_strong_and_428_when_missing(client: TestClient[web.Request, web.Application]) -> None:
    for n in range(1, 101):
        for header in (f'"v{n}"', f'W/"v{n}"', f"v{n}", f'  "v{n}" '):
            resp = await client.get("/version", headers={"If-Match": header})
            assert (await resp.json())["version"] == f"v{n}"
    missing = await client.get("/version")
    assert missing.status == 428
    assert (await missing.json())["detail"] == "If-Match with the version you edited (the ETag of GET /x) is required"
    optional = await client.get("/version?required=0")
    assert optional.status == 200
    assert (await optional.json())["version"] is None
