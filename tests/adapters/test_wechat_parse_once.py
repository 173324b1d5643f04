"""A WeChat callback's XML is parsed once (adapters/wechat_crypto.py `parse_envelope`, then
adapters/wechat.py `native_message`), and what comes out is what the two parses made before:
xmltodict's dict and wechatpy's `parse_message` object, for every body, hostile ones refused
before either parser sees them."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import xmltodict  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.parser import parse_message

from adapters import wechat, wechat_crypto
from adapters.wechat import native_message
from adapters.wechat_crypto import parse_envelope
from kefu_common.errors import ProtocolError


def _msg(fields: str) -> bytes:
    return f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>" \
           f"<CreateTime>1700000000</CreateTime>{fields}</xml>".encode()


BODIES = [
    _msg("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[这件外套有M码吗]]></Content><MsgId>1</MsgId>"),
    _msg("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[  spaced  ]]></Content><MsgId>2</MsgId>"),
    _msg("<MsgType><![CDATA[text]]></MsgType><Content></Content><MsgId>3</MsgId>"),
    _msg("<MsgType><![CDATA[text]]></MsgType><Content>a &amp; b &lt;c&gt;</Content><MsgId>4</MsgId>"),
    _msg("<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/p]]></PicUrl>"
         "<MediaId><![CDATA[media1]]></MediaId><MsgId>5</MsgId>"),
    _msg("<MsgType><![CDATA[location]]></MsgType><Location_X>23.13</Location_X><Location_Y>113.26</Location_Y>"
         "<Scale>20</Scale><Label><![CDATA[广州]]></Label><MsgId>6</MsgId>"),
    _msg("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"),
    _msg("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
         "<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[t]]></Ticket>"),
    _msg("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
         "<EventKey><![CDATA[scanbarcode|x]]></EventKey>"),
    _msg("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey>9</EventKey>"),
    _msg("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey>menu</EventKey>"),
    _msg("<MsgType><![CDATA[device_text]]></MsgType><DeviceType>d</DeviceType>"),
    _msg("<MsgType><![CDATA[device_event]]></MsgType><Event>bind</Event>"),
    _msg("<MsgType><![CDATA[miniprogrampage]]></MsgType><Title>t</Title>"),
    # What ElementTree leaves to xmltodict: nested, attributes, repeated names, namespaces,
    # mixed text, processing instructions, a declaration, another root.
    _msg("<MsgType>event</MsgType><Event>scancode_waitmsg</Event><ScanCodeInfo><ScanType>qrcode</ScanType>"
         "<ScanResult>1</ScanResult></ScanCodeInfo>"),
    _msg("<MsgType>event</MsgType><Event>pic_sysphoto</Event><SendPicsInfo><Count>2</Count><PicList>"
         "<item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo>"),
    _msg('<MsgType kind="x">text</MsgType><Content>hi</Content><MsgId>7</MsgId>'),
    _msg("<MsgType>text</MsgType><Content>a</Content><Content>b</Content><MsgId>8</MsgId>"),
    _msg('<MsgType>text</MsgType><n:Content xmlns:n="urn:x">hi</n:Content><MsgId>9</MsgId>'),
    _msg("<MsgType>text</MsgType>stray<Content>hi</Content><MsgId>10</MsgId>"),
    _msg("<MsgType>text</MsgType><Content>h<?pi x?>i</Content><MsgId>11</MsgId>"),
    b'<?xml version="1.0" encoding="utf-8"?>\n' + _msg("<MsgType>text</MsgType><Content>hi</Content><MsgId>12</MsgId>"),
    b"<other><MsgType>text</MsgType></other>",
    b"<xml>\n  <MsgType>text</MsgType>\n  <Content>\n hi \n</Content>\n</xml>\n",
]


def _xmltodict(body: bytes) -> Any:
    return xmltodict.parse(body, disable_entities=True).get("xml")


def _fields(native: Any) -> dict[str, Any]:
    return {**native._data, "__class__": type(native).__name__}


@pytest.mark.parametrize("body", BODIES)
def test_the_dict_is_xmltodicts(body: bytes) -> None:
    want = _xmltodict(body)
    if not isinstance(want, dict):
        with pytest.raises(ProtocolError):
            parse_envelope(body)
        return
    assert parse_envelope(body) == want


@pytest.mark.parametrize("body", [b for b in BODIES if isinstance(_xmltodict(b), dict)])
def test_the_object_is_wechatpys(body: bytes) -> None:
    raw = parse_envelope(body)
    before = dict(raw)
    try:
        theirs: Any = _fields(parse_message(body.decode()))
    except Exception as exc:
        with pytest.raises(type(exc)):
            native_message(raw)
        return
    assert _fields(native_message(raw)) == theirs
    assert raw == before  # wechatpy's rewrite of a scan-to-subscribe is not written into raw


def _text_body(draw: Any) -> bytes:
    text = draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = text.replace(a, b)
    ws = draw(st.sampled_from(["", " ", "\n", "\t "]))
    kind = draw(st.sampled_from(["text", "TEXT", "event", "image", "voice", "link", "unknownkind"]))
    event = draw(st.sampled_from(["", "<Event>subscribe</Event>", "<Event>VIEW</Event>"]))
    return f"<xml>{ws}<MsgType>{kind}</MsgType>{ws}{event}<Content>{text}</Content><MsgId>1</MsgId>{ws}</xml>" \
        .encode()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_text_reads_the_same(data: Any) -> None:
    """Whatever characters a customer writes (escaped as WeChat sends them), the fast parse and
    xmltodict read the same fields, and the message the same."""
    body = _text_body(data.draw)
    try:
        want = _xmltodict(body)
    except Exception:  # not XML (a control character): refused either way
        with pytest.raises(ProtocolError):
            parse_envelope(body)
        return
    assert parse_envelope(body) == want
    assert _fields(native_message(parse_envelope(body))) == _fields(parse_message(body.decode()))


def test_a_callback_is_parsed_once() -> None:
    """The adapter's parse runs one XML parse: ElementTree's, and neither xmltodict nor
    wechatpy's parser (which would be a second)."""
    body = BODIES[0]
    with mock.patch.object(wechat_crypto.xmltodict, "parse", side_effect=AssertionError("second parse")), \
            mock.patch("wechatpy.parser.xmltodict.parse", side_effect=AssertionError("second parse")):
        msg = wechat.WechatAdapter.parse_xml(mock.Mock(account="shop"), body)
    assert (msg.text, msg.sender_ref, msg.native_id) == ("这件外套有M码吗", "o1", "1")


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>',
    b"<xml><a>&undefined;</a></xml>",
    b"<xml><a>1</a>",
    b"",
])
def test_hostile_or_broken_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_envelope(body)
