"""The media store's contract, on every backend: what it takes, what it refuses (storing
nothing), how it addresses and owns files, and what retention deletes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from helpers import images
from helpers.s3 import MotoServer, moto_server
from PIL import Image

from kefu_common.errors import MediaInvalid, MediaRefused, MediaTooLarge, MediaTypeRefused
from router.config.media import MediaSettings
from router.media import DirectoryStore, MediaNotFound, MediaPolicy, MediaStore, pending_owner
from router.media.s3 import S3Store
from router.models import Kind


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=["dir", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    """One contract, every backend: a folder, and a bucket on moto's S3 server."""
    policy = MediaPolicy(MediaSettings())
    built: MediaStore
    if request.param == "s3":
        built = S3Store(request.getfixturevalue("moto").bucket(), policy)
    else:
        built = DirectoryStore(tmp_path / "media", policy)
    yield built
    await built.aclose()


async def stored_keys(store: MediaStore) -> list[str]:
    return [k for prefix in ("blobs/", "refs/", "owners/") for k in await store._list(prefix)]


async def test_photo_is_stored_with_its_facts_and_a_thumbnail(store: MediaStore) -> None:
    ref = await store.put(images.jpeg(1600, 1200), conversation="c_1", channel="webchat", name="seam.jpg")
    assert (ref.kind, ref.mime, ref.width, ref.height, ref.name, ref.conversation) == \
        (Kind.IMAGE, "image/jpeg", 1600, 1200, "seam.jpg", "c_1")
    got, data = await store.get(ref.id)
    assert got == ref and len(data) == ref.size
    _, thumb = await store.get(ref.id, thumb=True)
    with Image.open(io.BytesIO(thumb)) as small:
        assert max(small.size) == 320


async def test_gps_in_the_exif_is_gone_from_the_stored_file(store: MediaStore) -> None:
    original = images.jpeg(gps=True)
    with Image.open(io.BytesIO(original)) as img:
        assert img.getexif().get_ifd(images.GPS_IFD), "the test photo must carry GPS to begin with"
    ref = await store.put(original, conversation="c_gps", channel="webchat")
    _, data = await store.get(ref.id)
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert not exif.get_ifd(images.GPS_IFD)
        assert len(exif) == 0
        assert "exif" not in img.info
    assert b"Exif\x00\x00" not in data and b"PhoneMaker" not in data
    _, thumb = await store.get(ref.id, thumb=True)
    assert b"Exif\x00\x00" not in thumb


async def test_the_camera_rotation_is_applied_before_exif_goes(store: MediaStore) -> None:
    ref = await store.put(images.jpeg(400, 200, gps=False, orientation=6), conversation="c_rot", channel="webchat")
    assert (ref.width, ref.height) == (400, 200)
    _, data = await store.get(ref.id)
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (200, 400)  # turned upright, as the phone showed it


async def test_same_bytes_in_one_conversation_are_one_file_and_in_another_a_second(store: MediaStore) -> None:
    photo = images.png()
    a = await store.put(photo, conversation="c_a", channel="webchat")
    again = await store.put(photo, conversation="c_a", channel="webchat")
    other = await store.put(photo, conversation="c_b", channel="webchat")
    assert a.id == again.id and a.id != other.id
    assert len(await store._list("blobs/")) == 4  # two files, each with a thumbnail


@pytest.mark.parametrize(("data", "error", "status"), [
    (images.exe_as_jpg(), MediaTypeRefused, 415),
    (b"", MediaInvalid, 422),
    (images.truncated_jpeg(), MediaInvalid, 422),
    (b"\xff\xd8\xff\xe0 not really a jpeg at all" * 10, MediaInvalid, 422),
], ids=["exe-renamed-jpg", "zero-bytes", "truncated", "jpeg-magic-garbage"])
async def test_bad_files_are_refused_and_nothing_is_stored(store: MediaStore, data: bytes,
                                                           error: type[MediaRefused], status: int) -> None:
    with pytest.raises(error) as caught:
        await store.put(data, conversation="c_bad", channel="webchat", name="photo.jpg")
    assert caught.value.status == status and caught.value.detail
    assert await stored_keys(store) == []


async def test_a_decompression_bomb_is_refused_unread(store: MediaStore) -> None:
    bomb = await asyncio.to_thread(images.png_bomb)
    assert len(bomb) < 1024 * 1024  # small on the wire: the danger is in decoding it
    with pytest.raises(MediaInvalid, match="decompression bomb"):
        await store.put(bomb, conversation="c_bomb", channel="webchat")
    assert await stored_keys(store) == []


async def test_a_30_mb_file_is_too_large(store: MediaStore) -> None:
    with pytest.raises(MediaTooLarge) as caught:
        await store.put(images.big_file(), conversation="c_big", channel="webchat", name="manual.pdf")
    assert caught.value.status == 413 and caught.value.limit == 20 * 1024 * 1024
    assert await stored_keys(store) == []


async def test_the_allow_list_is_per_channel(store: MediaStore, tmp_path: Path) -> None:
    amr = b"#!AMR\n" + b"\x3c" * 320
    with pytest.raises(MediaTypeRefused, match="audio/amr"):
        await store.put(amr, conversation="c_v", channel="webchat")
    ref = await store.put(amr, conversation="c_v", channel="wechat", duration=2.0)
    assert (ref.kind, ref.mime, ref.duration) == (Kind.VOICE, "audio/amr", 2.0)
    narrow = DirectoryStore(tmp_path / "narrow", MediaPolicy(MediaSettings(allow={"webchat": ("image/png",)})))
    with pytest.raises(MediaTypeRefused):
        await narrow.put(images.jpeg(), conversation="c_n", channel="webchat")
    assert (await narrow.put(images.png(), conversation="c_n", channel="webchat")).mime == "image/png"


@pytest.mark.parametrize("forged", ["md_" + "0" * 32, "md_../../etc/passwd", "../refs/x", "", "md_" + "g" * 32])
async def test_a_forged_id_is_not_found(store: MediaStore, forged: str) -> None:
    await store.put(images.png(), conversation="c_f", channel="webchat")
    assert await store.ref(forged) is None
    with pytest.raises(MediaNotFound):
        await store.get(forged)


async def test_a_pending_upload_is_claimed_by_its_conversation(store: MediaStore) -> None:
    owner = pending_owner("webchat", "web", "v_1")
    ref = await store.put(images.png(), conversation=owner, channel="webchat")
    claimed = await store.claim(ref.id, "c_9")
    assert claimed.id == ref.id and claimed.conversation == "c_9"
    assert (await store.ref(ref.id)) == claimed
    assert await store.claim(ref.id, "c_9") == claimed
    assert await store.delete_conversation(owner) == 0
    assert await store.delete_conversation("c_9") == 1
    assert await store.ref(ref.id) is None


async def test_retention_deletes_a_conversations_files_and_no_others(store: MediaStore) -> None:
    keep = await store.put(images.png(alpha=True), conversation="c_keep", channel="webchat")
    gone = [await store.put(images.png(8 + i, 8), conversation="c_gone", channel="webchat")
            for i in range(120)]
    assert await store.delete_conversations(["c_gone", "c_none"]) == 120  # the archive prune's batch
    assert await store.delete_conversation("c_gone") == 0
    for ref in gone[::17]:
        assert await store.ref(ref.id) is None
    assert (await store.get(keep.id))[0] == keep
    assert sorted(await stored_keys(store)) == sorted(
        [f"blobs/{keep.id}", f"blobs/{keep.id}.thumb", f"refs/{keep.id}.json", f"owners/c_keep/{keep.id}"])


async def test_uploads_never_sent_are_swept(store: MediaStore) -> None:
    old = await store.put(images.png(), conversation=pending_owner("webchat", "web", "v_old"), channel="webchat")
    sent = await store.put(images.png(8, 8), conversation="c_sent", channel="webchat")
    assert await store.sweep_pending(older_than=old.created + 1) == 1
    assert await store.ref(old.id) is None and await store.ref(sent.id) == sent


async def test_names_are_kept_as_a_plain_base_name(store: MediaStore) -> None:
    ref = await store.put(images.pdf(), conversation="c_n", channel="webchat", name='..\\..\\evil"\r\nname.pdf')
    assert (ref.kind, ref.name) == (Kind.FILE, "evilname.pdf")
