"""Agents' profile pictures and the welcome card's uploaded logo (router/ops/pictures.py): who may
set them, what is refused with nothing changed, that a replaced picture is deleted, and that the
customer's chat page gets the agent's picture in its frames and can read it without a credential."""

from __future__ import annotations

import io
import time
from typing import Any

import aiohttp
from helpers import images
from helpers.accounts import ADMIN_TOKEN, ALICE_TOKEN, SUE_TOKEN, bearer, call, shop_settings
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id
from helpers.media import fetch
from PIL import Image

from router.ops.pictures import AVATAR_MAX_BYTES, LOGO_MAX_BYTES
from router.runtime import Runtime


async def put_picture(http: aiohttp.ClientSession, url: str, token: str, data: bytes,
                      name: str = "me.png") -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(data), filename=name, content_type="image/png")
    async with http.put(url, data=form, headers=bearer(token)) as r:
        return r.status, await r.json()


def media_id(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def avatar_of(http: aiohttp.ClientSession, base: str, aid: str) -> str | None:
    listed = (await call(http, "GET", f"{base}/api/v1/agents", ADMIN_TOKEN))[2]["agents"]
    found: str | None = next(a for a in listed if a["id"] == aid)["avatar"]
    return found


async def test_an_agent_sets_replaces_and_removes_their_picture(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        url = f"{base}/api/v1/agents/alice/avatar"
        status, body = await put_picture(http, url, ALICE_TOKEN, images.jpeg(800, 800, gps=True), "me.jpg")
        assert status == 200, body
        first = body["avatar"]
        assert first.startswith("/api/v1/media/md_") and await avatar_of(http, base, "alice") == first

        # Anyone reads it, with no credential (the chat page's <img>), cached as a public file;
        # the camera's EXIF is gone, as for every photo the media store keeps.
        async with http.get(base + first) as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
            assert r.headers["Cache-Control"] == "public, max-age=86400"
            with Image.open(io.BytesIO(await r.read())) as img:
                assert img.size == (800, 800) and not img.getexif().get_ifd(images.GPS_IFD)

        # A new picture replaces the old one, whose file is deleted.
        status, body = await put_picture(http, url, ALICE_TOKEN, images.png(120, 120))
        assert status == 200 and body["avatar"] != first
        assert await rt.media.ref(media_id(first)) is None
        assert (await fetch(http, base + first))[0] == 401  # gone: no longer a public picture
        assert await avatar_of(http, base, "alice") == body["avatar"]
        # The same bytes again keep the same file (one id per owner and content): nothing deleted.
        again = await put_picture(http, url, ALICE_TOKEN, images.png(120, 120))
        assert again == (200, body) and await rt.media.ref(media_id(body["avatar"])) is not None

        status, _, gone = await call(http, "DELETE", url, ALICE_TOKEN)
        assert (status, gone["avatar"]) == (200, None)
        assert await rt.media.ref(media_id(body["avatar"])) is None
        assert await avatar_of(http, base, "alice") is None
        assert (await call(http, "DELETE", url, ALICE_TOKEN))[0] == 200  # removing twice is no error

        audit = (await call(http, "GET", f"{base}/api/v1/audit?action=agent.avatar", ADMIN_TOKEN))[2]["entries"]
        # Every change is recorded; the second removal changed nothing and is not.
        assert [(e["actor"], e["target"]) for e in audit] == [("alice", "alice")] * 4


async def test_bad_pictures_are_refused_and_change_nothing(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        url = f"{base}/api/v1/agents/alice/avatar"
        kept = (await put_picture(http, url, ALICE_TOKEN, images.png(64, 64)))[1]["avatar"]
        refusals = [
            (images.pdf(), "invoice.png", 415),  # a PDF called .png
            (images.exe_as_jpg(), "me.jpg", 415),  # an executable called .jpg
            (b"GIF89a" + b"\0" * 200, "me.gif", 415),  # GIF is not taken for a face
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "me.svg", 415),
            (images.truncated_jpeg(), "me.jpg", 422),  # the type is right; it does not decode
            (b"\x89PNG\r\n\x1a\n" + b"\0" * AVATAR_MAX_BYTES, "huge.png", 413),
            (b"", "empty.png", 400),
        ]
        for data, name, expected in refusals:
            status, body = await put_picture(http, url, ALICE_TOKEN, data, name)
            assert status == expected, (name, status, body)
            assert body["detail"]  # a reason, in words
        assert await avatar_of(http, base, "alice") == kept
        assert await rt.media.ref(media_id(kept)) is not None
        assert sorted(await rt.media._list("owners/")) == [f"owners/agent_avatar.alice/{media_id(kept)}"]

        # Not a multipart body, or no file in it: refused the same way.
        async with http.put(url, json={"file": "x"}, headers=bearer(ALICE_TOKEN)) as r:
            assert r.status == 400
        assert await avatar_of(http, base, "alice") == kept


async def test_only_the_agent_or_an_admin_changes_a_picture(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        sue_url = f"{base}/api/v1/agents/sue/avatar"
        status, body = await put_picture(http, sue_url, ALICE_TOKEN, images.png())
        assert status == 403 and "admin" in body["detail"]
        assert (await call(http, "DELETE", sue_url, ALICE_TOKEN))[0] == 403
        # A supervisor is not an admin either.
        assert (await put_picture(http, f"{base}/api/v1/agents/alice/avatar", SUE_TOKEN, images.png()))[0] == 403
        assert await avatar_of(http, base, "sue") is None

        # The admin sets and removes it from the Team tab.
        status, body = await put_picture(http, sue_url, ADMIN_TOKEN, images.png(90, 90))
        assert status == 200 and await avatar_of(http, base, "sue") == body["avatar"]
        assert (await call(http, "DELETE", sue_url, ADMIN_TOKEN))[0] == 200
        assert await avatar_of(http, base, "sue") is None
        assert (await put_picture(http, f"{base}/api/v1/agents/nobody/avatar", ADMIN_TOKEN, images.png()))[0] == 404
        assert (await put_picture(http, sue_url, "not-a-token", images.png()))[0] == 401


async def assigned_to_alice(http: aiohttp.ClientSession, base: str, rt: Runtime) -> tuple[Any, str, str]:
    """A web chat customer whose conversation alice takes; (their socket, session, conversation)."""
    alice = await agent(http, base, "alice-token-1234")
    cust, session = await customer(http, base)
    cmid = msg_id()
    await cust.send({"type": "message", "text": "does this come in blue?", "client_msg_id": cmid})
    assigned = await alice.expect(lambda f: f["type"] == "assigned")
    await alice.close()
    return cust, session, str(assigned["conversation"]["id"])


async def test_the_customer_sees_the_agents_picture_in_frames(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        status, body = await put_picture(http, f"{base}/api/v1/agents/alice/avatar", "alice-token-1234",
                                         images.png(100, 100))
        assert status == 200, body
        cust, session, cid = await assigned_to_alice(http, base, rt)
        joined = await cust.expect(lambda f: f["type"] == "agent")
        assert joined["agent"] == {"id": "alice", "name": "Alice", "avatar": body["avatar"]}
        assert (await fetch(http, base + body["avatar"]))[0] == 200  # the widget's <img> needs no credential

        # A supervisor with a picture joins beside her: their notice carries theirs.
        status, sues = await put_picture(http, f"{base}/api/v1/agents/sue/avatar", "sue-token-12345", images.png(50, 50))
        assert status == 200, sues
        async with http.post(f"{base}/api/v1/conversations/{cid}/join", headers=bearer("sue-token-12345")) as r:
            assert r.status == 200, await r.text()
        beside = await cust.expect(lambda f: f["type"] == "agent_joined")
        assert beside["agent"] == {"id": "sue", "name": "Sue", "avatar": sues["avatar"]}
        await cust.close()

        # A page that reconnects learns it from the snapshot.
        again, _ = await customer(http, base, session)
        snap = await again.expect(lambda f: f["type"] == "conversation")
        assert snap["conversation"]["id"] == cid
        assert snap["conversation"]["agent"] == {"id": "alice", "name": "Alice", "avatar": body["avatar"]}
        await again.close()

        # Without a picture the field is left out (the widget draws initials).
        await call(http, "DELETE", f"{base}/api/v1/agents/alice/avatar", "alice-token-1234")
        third, _ = await customer(http, base, session)
        snap = await third.expect(lambda f: f["type"] == "conversation")
        assert snap["conversation"]["agent"] == {"id": "alice", "name": "Alice"}
        await third.close()


async def test_bob_without_a_picture_joins_without_one(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        bob = await agent(http, base, "bob-token-12345")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "hello", "client_msg_id": msg_id()})
        joined = await cust.expect(lambda f: f["type"] == "agent")
        assert joined["agent"] == {"id": "bob", "name": "Bob"}
        await cust.close()
        await bob.close()


async def widget_logo(http: aiohttp.ClientSession, base: str) -> str | None:
    async with http.get(f"{base}/api/v1/webchat/widget") as r:
        found: str | None = (await r.json())["welcome"]["logo"]
        return found


async def test_an_uploaded_logo_wins_over_the_config_and_removing_it_goes_back(redis_url: str) -> None:
    settings = shop_settings("channels:\n  webchat:\n    welcome:\n      logo: https://cdn.example.com/logo.png\n")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        url = f"{base}/api/v1/webchat/logo"
        assert await widget_logo(http, base) == "https://cdn.example.com/logo.png"
        status, body = await put_picture(http, url, ALICE_TOKEN, images.png())
        assert status == 403 and await widget_logo(http, base) == "https://cdn.example.com/logo.png"

        status, body = await put_picture(http, url, ADMIN_TOKEN, images.png(200, 80))
        assert status == 200, body
        first = body["logo"]
        assert await widget_logo(http, base) == first
        assert (await fetch(http, base + first))[0] == 200  # the chat page shows it before any sign-in
        shown = (await call(http, "GET", f"{base}/api/v1/webchat/logo/uploaded", ADMIN_TOKEN))[2]
        assert shown == {"logo": first, "configured": "https://cdn.example.com/logo.png"}

        status, body = await put_picture(http, url, ADMIN_TOKEN, images.jpeg(300, 100, gps=False))
        assert status == 200 and await widget_logo(http, base) == body["logo"]
        assert await rt.media.ref(media_id(first)) is None  # the replaced logo is deleted
        # Neither the logo nor an agent's picture is an unsent upload: the pending sweep leaves them.
        alice = (await put_picture(http, f"{base}/api/v1/agents/alice/avatar", ALICE_TOKEN, images.png()))[1]
        assert await rt.media.sweep_pending(time.time() + 3600) == 0
        assert await rt.media.ref(media_id(body["logo"])) is not None
        assert await rt.media.ref(media_id(alice["avatar"])) is not None

        big = b"\x89PNG\r\n\x1a\n" + b"\0" * LOGO_MAX_BYTES
        assert (await put_picture(http, url, ADMIN_TOKEN, big))[0] == 413
        assert (await put_picture(http, url, ADMIN_TOKEN, images.pdf()))[0] == 415
        assert await widget_logo(http, base) == body["logo"]

        assert (await call(http, "DELETE", url, ADMIN_TOKEN))[0] == 200
        assert await widget_logo(http, base) == "https://cdn.example.com/logo.png"
        assert await rt.media.ref(media_id(body["logo"])) is None
