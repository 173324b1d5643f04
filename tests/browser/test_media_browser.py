"""A photo return, as people do it: the customer attaches a photo from the phone layout, the agent
sees its thumbnail, opens the lightbox and zooms, and replies with an image the customer sees."""

from __future__ import annotations

import io
from pathlib import Path

from helpers import images
from helpers.app import basic_settings, running
from helpers.bot_app import bot_settings
from helpers.shots import screenshot_path
from PIL import Image
from playwright.async_api import Browser, Locator, Route, expect


async def loaded(img: Locator) -> None:
    await expect(img).to_be_visible()
    await img.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=await img.element_handle(),
                                     timeout=10_000)


async def test_a_photo_from_the_phone_to_the_console_and_an_image_back(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        phone = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780}, is_mobile=True,
                                          has_touch=True)
        desk = await browser.new_context(locale="en-US", viewport={"width": 1200, "height": 760})
        chat = await phone.new_page()
        console = await desk.new_page()
        errors: list[str] = []
        for page in (chat, console):
            page.on("pageerror", lambda e: errors.append(str(e)))

        await console.goto(f"{base}/console")
        await console.get_by_label("Agent token").fill("alice-token-1234")
        await console.get_by_role("button", name="Sign in").click()
        await expect(console.locator("#conn")).to_have_text("online")

        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        # The phone layout opens the camera: images only, with capture.
        assert await chat.locator("#file").get_attribute("accept") == "image/*"
        assert await chat.locator("#file").get_attribute("capture") == "environment"
        await chat.locator("#text").fill("衣服洗了一次缝线就开了，见照片")
        await chat.locator("#text").press("Enter")
        photo = images.product_photo(1600, 1200)
        await chat.locator("#file").set_input_files(
            files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        await expect(console.locator("#messages .msg.from-customer .body")).to_have_text("衣服洗了一次缝线就开了，见照片")
        mine = chat.locator(".msg.from-customer figure.media img")
        await loaded(mine.first)
        await expect(chat.locator(".msg.from-customer.pending")).to_have_count(0)

        # The agent sees the thumbnail, opens the lightbox, zooms and can download the file.
        thumb = console.locator("#messages .msg.from-customer figure.media img")
        await loaded(thumb)
        assert "thumb=1" in (await thumb.get_attribute("src") or "")
        await console.locator("#messages .msg.from-customer figure.media button.thumb").click()
        await expect(console.locator("#lightbox")).to_be_visible()
        await loaded(console.locator("#lightbox-img"))
        assert await console.locator("#lightbox-img").evaluate("img => img.naturalWidth") == 1600
        await console.locator("#lightbox-in").click()
        await expect(console.locator("#lightbox-zoom")).to_have_text("150%")
        href = await console.locator("#lightbox-download").get_attribute("href") or ""
        stored = await console.evaluate("url => fetch(url).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))",
                                        href)
        with Image.open(io.BytesIO(bytes(stored))) as img:
            assert img.size == (1600, 1200) and not img.getexif().get_ifd(images.GPS_IFD)
        await console.locator("#lightbox-close").click()
        await expect(console.locator("#lightbox")).to_be_hidden()

        # The agent attaches an image with a line of text; the customer sees both.
        await console.locator("#reply-text").fill("是这个颜色吗？")
        await console.locator("#attach-file").set_input_files(
            files=[{"name": "colour.png", "mimeType": "image/png", "buffer": images.png(400, 300)}])
        await expect(console.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")
        theirs = chat.locator(".msg.from-agent figure.media img")
        await loaded(theirs)
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("是这个颜色吗？")
        await console.screenshot(path=screenshot_path("console-photo.png"))

        # A file the store refuses is shown as refused on the phone, with the reason in Chinese and
        # the type the bytes turned out to be.
        await chat.locator("#file").set_input_files(
            files=[{"name": "invoice.jpg", "mimeType": "image/jpeg", "buffer": images.exe_as_jpg()}])
        await expect(chat.locator(".upload-error")).to_contain_text("不支持这种文件（application/x-msdownload）")
        assert errors == []
        await phone.close()
        await desk.close()
        assert len(await rt.media._list("refs/")) == 2


async def test_the_bots_photo_handoff_pins_the_photo_above_the_thread(redis_url: str, browser: Browser,
                                                                      tmp_path: Path) -> None:
    """A photo alone goes from the bot to a person (reason `media`); the console keeps it in view."""
    async with running(bot_settings(tmp_path, cap=5), redis_url) as (_rt, base):
        phone = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780}, is_mobile=True,
                                          has_touch=True)
        desk = await browser.new_context(locale="en-US", viewport={"width": 1200, "height": 760})
        chat = await phone.new_page()
        console = await desk.new_page()
        await console.goto(f"{base}/console")
        await console.get_by_label("Agent token").fill("alice-token-1234")
        await console.get_by_role("button", name="Sign in").click()
        await expect(console.locator("#conn")).to_have_text("online")
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await chat.locator("#file").set_input_files(
            files=[{"name": "seam.jpg", "mimeType": "image/jpeg", "buffer": images.product_photo(800, 600)}])
        await console.locator(".conv").first.click()
        pinned = console.locator("#pinned")
        await expect(pinned).to_be_visible(timeout=20_000)
        await loaded(pinned.locator("img"))
        await expect(pinned).to_contain_text("The bot handed over this photo")
        await phone.close()
        await desk.close()


PNG_FILE_JS = """([selector, bytes, name, kind]) => {
    const file = new File([new Uint8Array(bytes)], name, {type: "image/png"});
    const data = new DataTransfer();
    data.items.add(file);
    const target = document.querySelector(selector);
    const event = kind === "paste" ? new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})
                                   : new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true});
    target.dispatchEvent(event);
}"""


async def test_drop_retry_and_a_pasted_screenshot(redis_url: str, browser: Browser) -> None:
    """The customer drops an image whose first upload the network loses, and retries it; the agent
    pastes a screenshot into the reply box."""
    async with running(basic_settings(), redis_url) as (rt, base):
        desk = await browser.new_context(locale="en-US", viewport={"width": 1200, "height": 760})
        laptop = await browser.new_context(locale="en-US", viewport={"width": 900, "height": 760})
        console = await desk.new_page()
        chat = await laptop.new_page()
        await console.goto(f"{base}/console")
        await console.get_by_label("Agent token").fill("alice-token-1234")
        await console.get_by_role("button", name="Sign in").click()
        await expect(console.locator("#conn")).to_have_text("online")
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("Connected")
        # On a desktop the paperclip offers photos and files, without forcing the camera.
        assert await chat.locator("#file").get_attribute("capture") is None

        lost: list[str] = []

        async def lose_first(route: Route) -> None:
            if not lost:
                lost.append(route.request.url)
                await route.abort()
            else:
                await route.continue_()

        await chat.route("**/api/v1/webchat/uploads", lose_first)
        await chat.evaluate(PNG_FILE_JS, ["body", list(images.png(200, 150)), "dropped.png", "drop"])
        failed = chat.locator(".msg.from-customer .upload-error")
        await expect(failed).to_be_visible()
        await failed.get_by_role("button").click()
        await loaded(chat.locator(".msg.from-customer figure.media img"))
        await expect(chat.locator(".upload-error")).to_have_count(0)
        assert len(lost) == 1

        await loaded(console.locator("#messages .msg.from-customer figure.media img"))
        await console.locator("#reply-text").fill("收到，这是处理流程截图")
        await console.evaluate(PNG_FILE_JS, ["#reply-text", list(images.png(320, 200, alpha=True)), "shot.png", "paste"])
        await loaded(chat.locator(".msg.from-agent figure.media img"))
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("收到，这是处理流程截图")
        assert len(await rt.media._list("refs/")) == 2
        await desk.close()
        await laptop.close()
