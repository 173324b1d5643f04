"""WeChat's 5-second ack while customers' photos are being fetched: the webhook's answer time for
image callbacks, whose files come slowly, against text callbacks in the same run.

    .venv/bin/python bench/bench_media_ack.py [--n 200] [--get-delay 2.0]

One in-process router on a private redis-server (no agent online: every conversation waits in
its queue), and the fake WeChat API on loopback answering each `media/get` after `--get-delay`
seconds (a slow media server). First `n` text callbacks (the baseline), then `n` image callbacks,
each posted as WeChat does, 20 at a time. Reports the ack's p50 and p95 for both, their ratio,
and how long until every photo was in the media store.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import aiohttp  # noqa: E402
from bench_assign import pct, start_redis  # noqa: E402
from helpers.app import BASIC, running  # noqa: E402
from helpers.fake_wechat import fake_wechat, media_xml, signed_query, text_xml  # noqa: E402
from helpers.media_samples import jpeg  # noqa: E402

from router.config.settings import parse_settings  # noqa: E402
from router.store.embedded import find_redis_server  # noqa: E402

TOKEN = "bench-wx-token"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def post_all(http: aiohttp.ClientSession, base: str, bodies: list[str]) -> list[float]:
    """Post each callback (20 in flight); the seconds each took to be answered `success`."""
    slots, took = asyncio.Semaphore(20), []

    async def one(body: str) -> None:
        async with slots:
            start = time.perf_counter()
            async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(TOKEN),
                                 data=body.encode()) as r:
                assert (r.status, await r.text()) == (200, "success")
            took.append(time.perf_counter() - start)

    await asyncio.gather(*(one(b) for b in bodies))
    return took


async def main(n: int, get_delay: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-ack-"))
    proc, url = start_redis(find_redis_server() or "redis-server", work)
    try:
        async with fake_wechat() as wx:
            wx.get_delay_s = get_delay
            settings = parse_settings(BASIC.format(cap=100) + f"""
channels:
  wechat:
    - account: shop
      app_id: {wx.app_id}
      app_secret: {wx.app_secret}
      token: {TOKEN}
      api_base: {wx.base}
""", "<bench>")
            async with running(settings, url, data_dir=work / "data") as (rt, base), \
                    aiohttp.ClientSession() as http:
                say(f"baseline: {n} text callbacks")
                texts = await post_all(http, base, [text_xml(f"oT{i}", "在吗", 1_000 + i, int(time.time()))
                                                    for i in range(n)])
                say(f"{n} image callbacks, each file served after {get_delay:g} s")
                ids = [wx.add_media(jpeg(320, 240, seed=i), "image/jpeg") for i in range(n)]
                start = time.monotonic()
                images = await post_all(http, base, [media_xml(f"oI{i}", "image", m, 50_000 + i, int(time.time()))
                                                     for i, m in enumerate(ids)])
                for _ in range(3000):  # at most 10 minutes
                    done = rt.fetcher.fetched + rt.fetcher.failed
                    if done >= n:
                        break
                    if _ % 25 == 0:
                        say(f"  {done} of {n} photos stored")
                    await asyncio.sleep(0.2)
                stored = time.monotonic() - start
                say(f"every photo stored after {stored:.1f} s ({rt.fetcher.failed} failed)")
    finally:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    p50t, p95t, p50i, p95i = (pct(texts, 0.5), pct(texts, 0.95), pct(images, 0.5), pct(images, 0.95))
    print(f"ack p50: text {p50t * 1000:.0f} ms, image {p50i * 1000:.0f} ms (ratio {p50i / p50t:.2f})")
    print(f"ack p95: text {p95t * 1000:.0f} ms, image {p95i * 1000:.0f} ms (ratio {p95i / p95t:.2f}); "
          f"WeChat's limit 5000 ms")
    print(f"{n} photos stored {stored:.1f} s after the first callback, downloads {get_delay:g} s each, 8 at once")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--get-delay", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.get_delay))
