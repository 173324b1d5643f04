"""Customer profiles: what a person, the shop's page or a channel may set, checked the same way
wherever it comes from, and the identities a profile links by.

A profile edit names fields: `name`, `phone`, `segment`, `tags`, `attributes`. The phone number
is never stored: the hash keeps it masked for display ('138****5678') and the identity set keeps a
keyed digest ('phone::<hex>'), so two channels that gave the same number find one customer and a
Redis dump reveals neither number. Anything else in a body is a 400, and a bad value is a 400 that
changes nothing (the whole body is checked before a write).

kefu('identify', ...) from the web chat embed carries a profile the shop's backend signed:
`profile` is a JSON string and `signature` is hex HMAC-SHA256 of exactly that string with
`channels.webchat.identify_secret`. Signing the string, not an object, means no language has to
reproduce our JSON key order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from kefu_common import safejson
from kefu_common.errors import AuthError, ProtocolError

SEGMENTS = ("new", "returning", "vip")
"""The values rules match (routing_rules/parse_when.py); a segment outside them no rule could see."""
NAME_MAX = 64
TAG_MAX = 32
TAGS_MAX = 20
ATTRS_MAX = 30
ATTR_KEY_MAX = 40
ATTR_VALUE_MAX = 200
USER_ID_MAX = 128
PRODUCT_TEXT_MAX = 200
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,22}$")
_TAG = re.compile(r"^[^\s,<>\"'`]{1,32}$")
_URL = re.compile(r"^https?://[^\s\"'<>]{1,500}$")


@dataclass(frozen=True, slots=True)
class ProfileEdit:
    """A checked edit: the hash fields to write and the identities it links by."""

    fields: dict[str, str] = field(default_factory=dict)
    anchors: tuple[str, ...] = ()
    """'phone::DIGEST', 'user:web:ID': identities that name one person."""
    view: dict[str, Any] = field(default_factory=dict)
    """What changed, as the audit log and the API show it (the phone masked)."""


def mask_phone(digits: str) -> str:
    """'13800005678' -> '138****5678'; a short number keeps only its last two digits."""
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * (len(digits) - 2) + digits[-2:]


def phone_digits(raw: str) -> str:
    """The number as digits, China's +86 / 0086 prefix dropped, so '+86 138-0000-5678' and
    '13800005678' link."""
    digits = re.sub(r"\D", "", raw)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def phone_anchor(digits: str, key: bytes) -> str:
    """The identity a phone number links by: a keyed digest, not the number."""
    return "phone::" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:32]


def _text(body: dict[str, Any], name: str, max_len: int) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise ProtocolError("bad_request", f'"{name}" must be a string')
    value = value.strip()
    if len(value) > max_len:
        raise ProtocolError("too_long", f'"{name}" is longer than {max_len} characters',
                            params={"field": name, "limit": max_len})
    return value


def check_edit(body: dict[str, Any], phone_key: bytes, *, allowed: tuple[str, ...] | None = None) -> ProfileEdit:
    """The edit a PATCH body (or a signed profile) asks for; ProtocolError (400) on anything wrong."""
    known = ("name", "phone", "segment", "tags", "attributes")
    allowed = allowed or known
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ProtocolError("bad_request", f"unknown field {unknown[0]!r}; a profile has {', '.join(allowed)}")
    if not body:
        raise ProtocolError("bad_request", f"nothing to change; give one of {', '.join(allowed)}")
    fields: dict[str, str] = {}
    view: dict[str, Any] = {}
    anchors: list[str] = []
    if "name" in body:
        fields["name"] = view["name"] = _text(body, "name", NAME_MAX)
    if "phone" in body:
        raw = _text(body, "phone", 32)
        if raw and not _PHONE.match(raw):
            raise ProtocolError("bad_request", '"phone" must be a phone number: digits, with + - or spaces')
        digits = phone_digits(raw)
        fields["phone"] = view["phone"] = mask_phone(digits) if digits else ""
        if digits:
            anchors.append(phone_anchor(digits, phone_key))
    if "segment" in body:
        seg = body["segment"]
        if not isinstance(seg, str) or seg.strip().lower() not in SEGMENTS:
            raise ProtocolError("bad_request", f'"segment" must be one of {", ".join(SEGMENTS)}')
        fields["segment"] = view["segment"] = seg.strip().lower()
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list) or len(tags) > TAGS_MAX \
                or not all(isinstance(t, str) and _TAG.match(t.strip()) for t in tags):
            raise ProtocolError("bad_request", f'"tags" must be a list of up to {TAGS_MAX} words of 1-{TAG_MAX} '
                                               "characters, without spaces or commas")
        clean = list(dict.fromkeys(t.strip() for t in tags))
        fields["tags"] = json.dumps(clean, ensure_ascii=False)
        view["tags"] = clean
    if "attributes" in body:
        attrs = body["attributes"]
        if not isinstance(attrs, dict) or len(attrs) > ATTRS_MAX:
            raise ProtocolError("bad_request", f'"attributes" must be an object of up to {ATTRS_MAX} entries')
        out: dict[str, str] = {}
        for k, v in attrs.items():
            if not isinstance(k, str) or not 0 < len(k.strip()) <= ATTR_KEY_MAX:
                raise ProtocolError("bad_request", f"an attribute's name must be 1-{ATTR_KEY_MAX} characters")
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise ProtocolError("bad_request", f'attribute {k!r} must be a string or a number')
            text = str(v).strip()
            if len(text) > ATTR_VALUE_MAX:
                raise ProtocolError("too_long", f"attribute {k!r} is longer than {ATTR_VALUE_MAX} characters")
            out[k.strip()] = text
        fields["attrs"] = json.dumps(out, ensure_ascii=False) if out else ""
        view["attributes"] = out
    return ProfileEdit(fields, tuple(anchors), view)


def check_product(value: Any) -> dict[str, Any]:
    """The product of kefu('context', {product: {...}}): id and title, a price, an https image and
    page link. Kept small: it is shown in a card and matched by rules, never trusted for money."""
    if not isinstance(value, dict):
        raise ProtocolError("bad_request", '"product" must be an object {id, title, price, image, url}')
    unknown = sorted(set(value) - {"id", "title", "price", "image", "url"})
    if unknown:
        raise ProtocolError("bad_request", f"unknown product field {unknown[0]!r}")
    out: dict[str, Any] = {}
    for name in ("id", "title"):
        v = value.get(name)
        if not isinstance(v, str | int) or isinstance(v, bool) or not str(v).strip():
            raise ProtocolError("bad_request", f'product "{name}" is required (a string)')
        text = str(v).strip()
        if len(text) > PRODUCT_TEXT_MAX:
            raise ProtocolError("too_long", f'product "{name}" is longer than {PRODUCT_TEXT_MAX} characters')
        out[name] = text
    if value.get("price") is not None:
        price = value["price"]
        try:
            number = float(price) if not isinstance(price, bool) else -1.0
        except (TypeError, ValueError):
            number = -1.0
        if not 0 <= number < 1e9:
            raise ProtocolError("bad_request", 'product "price" must be a number of 0 or more')
        out["price"] = round(number, 2)
    for name in ("image", "url"):
        v = value.get(name)
        if v is None or v == "":
            continue
        if not isinstance(v, str) or not _URL.match(v):
            raise ProtocolError("bad_request", f'product "{name}" must be an http(s) URL')
        out[name] = v
    return out


def signature_of(profile: str, secret: str) -> str:
    """What the shop's backend computes: hex HMAC-SHA256 of the profile string."""
    return hmac.new(secret.encode(), profile.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Identified:
    user_id: str
    edit: ProfileEdit


def verify_identify(body: dict[str, Any], secret: str | None, max_age_s: int, phone_key: bytes,
                    now: float | None = None) -> Identified:
    """The signed profile of an identify call, checked; 401 on a bad or stale signature, 400 on
    a bad profile, 404 when the shop has no identify secret."""
    if not secret:
        raise ProtocolError("not_configured", "identify is off: set channels.webchat.identify_secret", 404)
    profile, sig = body.get("profile"), body.get("signature")
    if not isinstance(profile, str) or not isinstance(sig, str) or len(profile) > 8192:
        raise ProtocolError("bad_request", '"profile" (a JSON string) and "signature" (hex) are required')
    if not hmac.compare_digest(signature_of(profile, secret), sig.strip().lower()):
        raise AuthError("the profile's signature does not match; sign it with identify_secret")
    try:
        data = safejson.loads(profile)
    except ProtocolError:
        raise ProtocolError("bad_request", "the signed profile is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "the signed profile must be a JSON object")
    ts = data.pop("ts", None)
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ProtocolError("bad_request", 'the signed profile needs "ts", the signing time in epoch seconds')
    now = time.time() if now is None else now
    if abs(now - float(ts)) > max_age_s:
        raise AuthError("the signed profile is too old (or from the future); sign it again when the page loads")
    user_id = data.pop("user_id", None)
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or not str(user_id).strip() \
            or len(str(user_id)) > USER_ID_MAX:
        raise ProtocolError("bad_request", '"user_id" (the shop\'s own id of the customer) is required')
    edit = check_edit(data, phone_key, allowed=("name", "phone", "segment", "tags", "attributes")) if data \
        else ProfileEdit()
    return Identified(str(user_id).strip(), edit)
