"""Benchmark the media store's admission of a phone photo: what checking and re-encoding cost.

    .venv/bin/python bench/bench_media.py [--rounds N]

For each photo size, the time of `MediaStore.put` on the directory backend (sniff, decode,
EXIF-stripping re-encode, thumbnail, four writes) against two baselines from the same run: the
bytes written to a file as they came (a store that checks nothing), and Pillow decoding the photo
once (the floor any pixel-level check pays). Reports medians per photo and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.images import product_photo  # noqa: E402

from router.config.media import MediaSettings  # noqa: E402
from router.media import DirectoryStore, MediaPolicy  # noqa: E402

SIZES = [(1600, 1200), (3264, 2448)]
"""2 MP (a compressed chat photo) and 8 MP (a phone camera's full size)."""


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def one_size(width: int, height: int, rounds: int, root: Path) -> dict[str, float]:
    photo = product_photo(width, height)
    store = DirectoryStore(root / f"store-{width}", MediaPolicy(MediaSettings()))
    put, raw, decode = [], [], []
    for i in range(rounds):
        t0 = time.perf_counter()
        await store.put(photo, conversation=f"c_{i}", channel="webchat", name="p.jpg")
        put.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        (root / f"raw-{width}-{i}").write_bytes(photo)
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with Image.open(io.BytesIO(photo)) as img:
            img.load()
        decode.append(time.perf_counter() - t0)
        say(f"{width}x{height}: {i + 1}/{rounds}")
    return {"bytes": len(photo), "put_ms": statistics.median(put) * 1000,
            "raw_ms": statistics.median(raw) * 1000, "decode_ms": statistics.median(decode) * 1000}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    say(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="kefu-bench-media-") as tmp:
        rows = [(w, h, await one_size(w, h, args.rounds, Path(tmp))) for w, h in SIZES]
    print(f"{'photo':<12} {'size':>8} {'put (ms)':>9} {'raw write':>10} {'decode':>8} {'put/decode':>11}")
    for w, h, r in rows:
        print(f"{f'{w}x{h}':<12} {r['bytes'] / 1024:>6.0f}KB {r['put_ms']:>9.1f} {r['raw_ms']:>10.2f} "
              f"{r['decode_ms']:>8.1f} {r['put_ms'] / r['decode_ms']:>11.1f}")


if __name__ == "__main__":
    asyncio.run(main())
