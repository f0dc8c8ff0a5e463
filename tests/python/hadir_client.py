"""An independent Hadir client, written from docs/PROTOCOL.md alone (not from the Rust
code): request signatures, enrollment, a selfie normalised with Pillow, a check-in in a
signed DSSE envelope, and the server's decision.

Standard library plus python3-cryptography and python3-pil (Debian packages).
Version-1 payloads; everything about time is in `ClientClock` so a later payload
version with a signed time anchor changes only that class.
"""

import base64
import hashlib
import io
import json
import os
import time
import urllib.error
import urllib.request
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import hadir_dhash

CHECKIN_TYPE = "application/vnd.hadir.checkin+json"
REQUEST_TYPE = "application/vnd.hadir.request.v1"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def pae(payload_type, payload):
    """DSSE v1 pre-authentication encoding (PROTOCOL.md, 'Signed envelopes')."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def public_key_bytes(public_key):
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def key_id(public_point):
    return hashlib.sha256(public_point).digest()[:16].hex()


def new_uuid7():
    """UUID version 7 (RFC 9562): 48-bit Unix ms, version 7, 12 random bits, variant
    0b10, 62 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


class ApiError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body
        super().__init__("HTTP %d: %s" % (status, body))


class ClientClock:
    """The phone's clocks and its anchors (PROTOCOL.md, 'Trusted time and anchors'). The
    only place that knows about time: the request timeline from `GET /v1/time`, and the
    signed anchor from `POST /v1/anchors` that check-ins cite."""

    def __init__(self):
        self.timeline = None  # from GET /v1/time: Hadir-Timestamp only, not evidence
        self.anchor = None  # the signed anchor, as cited in `time.anchor`

    @staticmethod
    def boot_id():
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()

    @staticmethod
    def boot_elapsed_ms():
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000

    @staticmethod
    def wall_ms():
        return time.time_ns() // 1_000_000

    def take_timeline(self, client):
        """GET /v1/time: the midpoint of the round trip sets the request timeline."""
        before = self.boot_elapsed_ms()
        answer = client.request("GET", "/v1/time", signed=False)
        after = self.boot_elapsed_ms()
        self.timeline = {
            "server_time_ms": answer["server_time_ms"],
            "boot_elapsed_ms": before + (after - before) // 2,
            "boot_id": self.boot_id(),
        }

    def take_anchor(self, client):
        """POST /v1/anchors (signed, once enrolled): the server MACs what we send, our
        elapsed clock read just before sending; we keep our round trip and wall clock
        beside it, unsigned."""
        wall = self.wall_ms()
        before = self.boot_elapsed_ms()
        body = json.dumps({"boot_id": self.boot_id(), "boot_elapsed_ms": before}).encode()
        signed = client.request("POST", "/v1/anchors", body)
        after = self.boot_elapsed_ms()
        self.anchor = dict(signed, device_wall_ms=wall, round_trip_ms=after - before)

    def now_ms(self):
        """'Now' on the server's timeline (Hadir-Timestamp, fix_time_ms): from the
        signed anchor of this boot if any, else the `GET /v1/time` timeline."""
        elapsed, boot = self.boot_elapsed_ms(), self.boot_id()
        for a in (self.anchor, self.timeline):
            if a and a["boot_id"] == boot and elapsed >= a["boot_elapsed_ms"]:
                return a["server_time_ms"] + (elapsed - a["boot_elapsed_ms"])
        return self.wall_ms()

    def evidence(self):
        """The payload's `time` object at this moment."""
        return {
            "device_wall_ms": self.wall_ms(),
            "boot_elapsed_ms": self.boot_elapsed_ms(),
            "boot_id": self.boot_id(),
            "anchor": self.anchor,
        }


class HadirClient:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_point = public_key_bytes(self.key.public_key())
        self.device_id = None
        self.clock = ClientClock()

    def sign(self, message):
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))  # DER

    def request(self, method, path, body=b"", content_type="application/json",
                signed=True, device=None):
        headers = {}
        if body:
            headers["Content-Type"] = content_type
        if signed:
            device = device or self.device_id
            timestamp = str(self.clock.now_ms())
            nonce = os.urandom(16).hex()
            text = "\n".join([method, path, timestamp, nonce, device,
                              hashlib.sha256(body).hexdigest()])
            headers.update({
                "Hadir-Device": device,
                "Hadir-Timestamp": timestamp,
                "Hadir-Nonce": nonce,
                "Hadir-Signature": b64(self.sign(pae(REQUEST_TYPE, text.encode()))),
            })
        req = urllib.request.Request(self.base_url + path, data=body if body else None,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, json.loads(e.read() or b"null")) from None

    def enroll(self, code, person, device_label):
        self.clock.take_timeline(self)
        body = json.dumps({
            "enrollment_code": code,
            "person": person,
            "public_key": b64(self.public_point),
            "device_label": device_label,
            "platform": "python",
            "app_version": "0.1 (independent python client)",
        }).encode()
        answer = self.request("POST", "/v1/enroll", body, device="enroll")
        self.device_id = answer["device_id"]
        self.clock.take_anchor(self)
        return answer

    def config(self):
        return self.request("GET", "/v1/config")

    def upload_selfie(self, jpeg):
        sha = hashlib.sha256(jpeg).hexdigest()
        return self.request("PUT", "/v1/selfies/" + sha, jpeg, content_type="image/jpeg")

    def check_in(self, person, kind, latitude, longitude, accuracy_m, selfie_jpeg,
                 local_verdict, edit_time=None):
        """Signs and posts one check-in; `edit_time` may alter its `time` object (to
        play a lying phone) before it is signed."""
        payload = {
            "version": 2,
            "checkin_id": new_uuid7(),
            "person": person,
            "device_id": self.device_id,
            "kind": kind,
            "fix": {
                "latitude": latitude,
                "longitude": longitude,
                "accuracy_m": accuracy_m,
                "fix_time_ms": self.clock.now_ms(),
                "provider": "fused",
                "is_mock": False,
            },
            "local_verdict": local_verdict,
            "selfie_sha256": hashlib.sha256(selfie_jpeg).hexdigest(),
            "selfie_phash": hadir_dhash.dhash_hex(hadir_dhash.dhash_of_jpeg(selfie_jpeg)),
            "time": (edit_time or (lambda t: t))(self.clock.evidence()),
            "qr_token": None,
            "app_version": "0.1 (independent python client)",
        }
        payload_bytes = json.dumps(payload).encode("utf-8")
        envelope = {
            "payload": b64(payload_bytes),
            "payloadType": CHECKIN_TYPE,
            "signatures": [{
                "keyid": key_id(self.public_point),
                "sig": b64(self.sign(pae(CHECKIN_TYPE, payload_bytes))),
            }],
        }
        body = json.dumps({"envelopes": [envelope]}).encode()
        answer = self.request("POST", "/v1/checkins", body)
        return payload, answer["results"][0]


def camera_photo(width=1600, height=1200):
    """A face-like picture as a camera might deliver it (bigger than normalised)."""
    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    d = ImageDraw.Draw(image)
    s = width / 640
    d.rectangle([60 * s, 50 * s, 220 * s, 200 * s], fill=(235, 235, 225))
    d.ellipse([250 * s, 70 * s, 430 * s, 330 * s], fill=(55, 40, 30))
    d.ellipse([265 * s, 110 * s, 415 * s, 400 * s], fill=(200, 155, 125))
    d.ellipse([295 * s, 200 * s, 325 * s, 220 * s], fill=(35, 30, 30))
    d.ellipse([355 * s, 200 * s, 385 * s, 220 * s], fill=(35, 30, 30))
    d.ellipse([315 * s, 320 * s, 365 * s, 345 * s], fill=(150, 60, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def normalise_selfie(camera_jpeg):
    """PROTOCOL.md 'What a normalised selfie is', with Pillow: upright, long edge at
    most 640, baseline JPEG q85 with only a plain JFIF header."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(camera_jpeg))).convert("RGB")
    long_edge = max(image.size)
    if long_edge > 640:
        size = tuple(max(1, round(e * 640 / long_edge)) for e in image.size)
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
