"""A photo both ways through the web chat, and who may read it: the customer uploads and sends
it, the agent sees it and answers with an image, and nobody else reads either file."""

from __future__ import annotations

import io

import aiohttp
from helpers import images
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id
from helpers.media import fetch, form, send_photo, upload
from PIL import Image

ALICE, BOB, SUE = "alice-token-1234", "bob-token-12345", "sue-token-12345"


async def test_a_photo_goes_both_ways_and_only_its_people_read_it(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, ALICE)
        cust, session = await customer(http, base)
        status, up = await upload(http, base, session, images.jpeg(1200, 900, gps=True), name="seam.jpg")
        assert status == 201, up
        assert (up["kind"], up["mime"], up["width"], up["height"], up["name"]) == \
            ("image", "image/jpeg", 1200, 900, "seam.jpg")
        mid = up["media_id"]
        assert (await fetch(http, base + up["url"]))[0] == 200  # the signed link, no credential
        await send_photo(cust, mid, "the seam tore after one wash")

        assigned = await alice.expect(lambda f: f["type"] == "assigned")
        cid = assigned["conversation"]["id"]
        first = assigned["messages"][0]
        assert (first["kind"], first["media"]["id"], first["text"]) == ("image", mid, "the seam tore after one wash")
        assert (await rt.media.ref(mid)).conversation == cid  # type: ignore[union-attr]
        status, body, mime = await fetch(http, f"{base}/api/v1/media/{mid}", ALICE)
        assert (status, mime) == (200, "image/jpeg")
        with Image.open(io.BytesIO(body)) as img:
            assert img.size == (1200, 900) and not img.getexif().get_ifd(images.GPS_IFD)
        status, thumb, _ = await fetch(http, f"{base}/api/v1/media/{mid}?thumb=1", ALICE)
        assert status == 200 and len(thumb) < len(body)

        # The agent answers with an image of their own, uploaded for this conversation.
        status, mine = await upload(http, base, ALICE, images.png(300, 200), path="/api/v1/media",
                                    name="right-colour.png", conversation_id=cid)
        assert status == 201, mine
        rid = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "media_id": mine["media_id"],
                          "text": "is it this one?", "client_msg_id": rid})
        await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == rid)
        got = await cust.expect(lambda f: f["type"] == "message" and f["message"].get("kind") == "image")
        assert got["message"]["media"]["id"] == mine["media_id"] and got["message"]["text"] == "is it this one?"
        assert (await fetch(http, f"{base}/api/v1/media/{mine['media_id']}", session))[0] == 200
        async with http.get(f"{base}/api/v1/media/{mine['media_id']}/link",
                            headers={"Authorization": f"Bearer {session}"}) as r:
            link = await r.json()
        status, _, mime = await fetch(http, base + link["thumb_url"])
        assert (status, mime) == (200, "image/jpeg")  # an opaque picture's thumbnail is a JPEG

        # Who else asks: a supervisor may; another agent, another customer and a stranger may not.
        assert (await fetch(http, f"{base}/api/v1/media/{mid}", SUE))[0] == 200
        assert (await fetch(http, f"{base}/api/v1/media/{mid}", BOB))[0] == 404
        other, other_session = await customer(http, base)
        assert (await fetch(http, f"{base}/api/v1/media/{mid}", other_session))[0] == 404
        assert (await fetch(http, f"{base}/api/v1/media/{mid}"))[0] == 401
        assert (await fetch(http, f"{base}/api/v1/media/md_{'0' * 32}", ALICE))[0] == 404
        assert (await fetch(http, f"{base}/api/v1/media/md_{'0' * 32}"))[0] == 401
        assert (await fetch(http, f"{base}/api/v1/media/../../etc/passwd", ALICE))[0] == 404
        tampered = link["url"].replace("sig=", "sig=0")
        assert (await fetch(http, base + tampered))[0] == 401
        swapped = link["url"].replace(mine["media_id"], mid)  # a good signature names one file only
        assert (await fetch(http, base + swapped))[0] == 401

        # Another customer cannot send the first customer's photo as their own.
        before = len(alice.frames)
        cmid = msg_id()
        await other.send({"type": "message", "media_id": mid, "text": "", "client_msg_id": cmid})
        err = await other.expect(lambda f: f["type"] == "error" and f.get("ref") == cmid)
        assert err["code"] == "not_found"
        await other.send({"type": "message", "media_id": f"md_{'1' * 32}", "text": "x", "client_msg_id": msg_id()})
        await other.expect(lambda f: f["type"] == "error", start=len(other.frames))
        assert not [f for f in alice.frames[before:] if f["type"] in ("assigned", "message")]

        # An agent cannot attach a file of another conversation, nor reply to one with a forged id.
        rid = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "media_id": f"md_{'2' * 32}",
                          "client_msg_id": rid})
        err = await alice.expect(lambda f: f["type"] == "error" and f.get("ref") == rid)
        assert err["code"] == "unknown_media"
        status, _ = await upload(http, base, BOB, images.png(), path="/api/v1/media", conversation_id=cid)
        assert status == 404
        for sock in (alice, cust, other):
            await sock.close()


async def test_bad_uploads_are_refused_and_store_nothing(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        _cust, session = await customer(http, base)
        cases = [
            (images.exe_as_jpg(), "setup.jpg", 415, "unsupported_media_type"),
            (images.png_bomb(), "bomb.png", 422, "invalid_media"),
            (images.truncated_jpeg(), "cut.jpg", 422, "invalid_media"),
            (b"", "empty.jpg", 422, "invalid_media"),
            (images.big_file(), "manual.pdf", 413, "too_large"),
        ]
        for data, name, want, code in cases:
            status, body = await upload(http, base, session, data, name=name)
            assert (status, body["error"]) == (want, code), (name, body)
            assert body["detail"]
        # Without a session, with a forged one, or not as multipart: refused before reading.
        async with http.post(f"{base}/api/v1/webchat/uploads", data=form(images.png())) as r:
            assert r.status == 401
        status, _ = await upload(http, base, session[:-3] + "abc", images.png())
        assert status == 401
        async with http.post(f"{base}/api/v1/webchat/uploads", data=images.png(),
                             headers={"Authorization": f"Bearer {session}", "Content-Type": "image/png"}) as r:
            assert r.status == 400
        broken = b"--xyz\r\n-2.19e+272--74af\r\n\r\nbody\r\n--xyz--\r\n"
        async with http.post(f"{base}/api/v1/webchat/uploads", data=broken,
                             headers={"Authorization": f"Bearer {session}",
                                      "Content-Type": "multipart/form-data; boundary=xyz"}) as r:
            assert (r.status, (await r.json())["error"]) == (400, "bad_multipart")
        async with http.post(f"{base}/api/v1/media", data=form(images.png(), conversation_id="c_nope"),
                             headers={"Authorization": f"Bearer {ALICE}"}) as r:
            assert r.status == 404
        for prefix in ("blobs/", "refs/", "owners/"):
            assert await rt.media._list(prefix) == []
        # The limit is the kind's, not the JSON API's 1 MB body limit: a 6 MB PDF is taken.
        status, body = await upload(http, base, session, images.big_file(6 * 1024 * 1024), name="manual.pdf")
        assert (status, body["kind"], body["size"]) == (201, "file", 6 * 1024 * 1024)
