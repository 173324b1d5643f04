"""WeChat signatures and AES against the official WXBizMsgCrypt vectors, and against wechatpy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.crypto import PrpCrypto
from wechatpy.parser import parse_message

from adapters.wechat_crypto import (
    MessageCrypto,
    check_aes_key,
    parse_envelope,
    refuse_hostile,
    signature,
    signature_ok,
)
from kefu_common.errors import ProtocolError

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "wechat_vectors.json").read_text("utf-8"))


def test_plaintext_signature_vector() -> None:
    v = VECTORS["plaintext_signature"]
    assert signature(v["token"], v["timestamp"], v["nonce"]) == v["expected_signature"]
    assert signature_ok(v["expected_signature"], v["token"], v["timestamp"], v["nonce"])
    assert not signature_ok(v["expected_signature"][:-1] + "0", v["token"], v["timestamp"], v["nonce"])
    assert not signature_ok("", v["token"], v["timestamp"], v["nonce"])


def test_encrypt_with_fixed_random_matches_vector() -> None:
    v = VECTORS["encrypt_fixed_random"]
    crypto = MessageCrypto(v["encoding_aes_key"], v["app_id"])
    assert crypto.encrypt(v["plaintext"], v["random16"].encode()) == v["expected_ciphertext"]
    assert crypto.decrypt(v["expected_ciphertext"]) == v["plaintext"]


def test_url_verify_vector_decrypts_echostr() -> None:
    v = VECTORS["wecom_url_verify"]
    assert signature(v["token"], v["timestamp"], v["nonce"], v["echostr"]) == v["msg_signature"]
    assert MessageCrypto(v["encoding_aes_key"], v["corp_id"]).decrypt(v["echostr"]) == v["expected_plain"]


def test_compatible_mode_vector_verifies_decrypts_and_parses() -> None:
    v = VECTORS["official_account_compatible_mode"]
    q = v["query"]
    envelope = parse_envelope(v["body"].encode())
    assert signature_ok(q["msg_signature"], v["token"], q["timestamp"], q["nonce"], envelope["Encrypt"])
    plain = MessageCrypto(v["encoding_aes_key"], v["app_id"]).decrypt(envelope["Encrypt"])
    msg = parse_message(plain)
    fields = {"MsgType": msg.type, "MsgId": str(msg.id), "FromUserName": msg.source, "Content": msg.content}
    assert fields == v["expected"]


def test_another_app_id_is_refused() -> None:
    v = VECTORS["encrypt_fixed_random"]
    with pytest.raises(ProtocolError, match="another app id"):
        MessageCrypto(v["encoding_aes_key"], "wx-someone-else").decrypt(v["expected_ciphertext"])


@pytest.mark.parametrize("bad", ["not base64!", "", "AAAA", "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmk="])
def test_garbage_payloads_are_protocol_errors(bad: str) -> None:
    v = VECTORS["encrypt_fixed_random"]
    with pytest.raises(ProtocolError) as info:
        MessageCrypto(v["encoding_aes_key"], v["app_id"]).decrypt(bad)
    assert info.value.status == 400


@pytest.mark.parametrize(("key", "why"), [
    ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "43 characters"),
    ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "43 characters"),
    ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!", "base64"),
])
def test_bad_encoding_aes_keys_fail_with_a_clear_message(key: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_aes_key(key)


def test_good_key_decodes_to_32_bytes() -> None:
    assert len(check_aes_key(VECTORS["encrypt_fixed_random"]["encoding_aes_key"])) == 32


@given(st.text(max_size=300))
def test_our_crypto_and_wechatpy_agree(text: str) -> None:
    v = VECTORS["encrypt_fixed_random"]
    ours = MessageCrypto(v["encoding_aes_key"], v["app_id"])
    theirs = PrpCrypto(ours.key)
    assert theirs.decrypt(ours.encrypt(text), v["app_id"]) == text
    assert ours.decrypt(theirs.encrypt(text, v["app_id"]).decode()) == text


XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>&x;</FromUserName></xml>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><a>&lol3;</a></xml>"""


@pytest.mark.parametrize("body", [XXE, LAUGHS, b"<xml><!-- hi --><a>1</a></xml>"])
def test_markup_declarations_are_refused_before_parsing(body: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        refuse_hostile(body)
    assert info.value.code == "hostile_xml"


def test_cdata_is_fine() -> None:
    refuse_hostile(b"<xml><a><![CDATA[<b>]]></a></xml>")
    assert parse_envelope(b"<xml><a><![CDATA[<b>]]></a></xml>") == {"a": "<b>"}
