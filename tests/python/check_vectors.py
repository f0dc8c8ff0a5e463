"""Checks docs/vectors/{envelope,dhash,geofence}.json with this independent Python
implementation (PROTOCOL.md alone), so the vectors are known to be implementable."""

import base64
import json
import math
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import hadir_client
import hadir_dhash

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name)) as f:
        doc = json.load(f)
    assert isinstance(doc["description"], str) and doc["cases"], name
    return doc


def verifies(public_key, message, signature):
    if len(signature) == 64:  # fixed r || s form
        signature = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                         int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def check_envelopes():
    doc = load("envelope.json")
    point = base64.b64decode(doc["key"]["public_key_base64"])
    assert hadir_client.key_id(point) == doc["key"]["keyid"]
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    private = ec.derive_private_key(int(doc["key"]["private_scalar_hex"], 16), ec.SECP256R1())
    assert hadir_client.public_key_bytes(private.public_key()) == point
    for case in doc["cases"]:
        name = case["name"]
        payload = case["payload"].encode("utf-8")
        if "request" in case:
            r = case["request"]
            text = "\n".join([r["method"], r["path_and_query"], str(r["timestamp_ms"]),
                              r["nonce"], r["device"],
                              __import__("hashlib").sha256(r["body"].encode()).hexdigest()])
            assert text.encode() == payload, name
        message = hadir_client.pae(case["payload_type"], payload)
        assert message == case["pae"].encode("utf-8"), name
        sig = base64.b64decode(case["signature_base64"])
        assert verifies(public_key, message, sig) == case["verifies"], name
        if "envelope" in case:
            env = case["envelope"]
            assert base64.b64decode(env["payload"]) == payload, name
            assert env["payloadType"] == case["payload_type"], name
            assert env["signatures"][0]["keyid"] == doc["key"]["keyid"], name
    return len(doc["cases"])


def check_dhash():
    doc = load("dhash.json")
    for case in doc["cases"]:
        got = hadir_dhash.dhash_hex(
            hadir_dhash.dhash_of_grey(bytes(case["pixels"]), case["width"], case["height"]))
        assert got == case["dhash"], (case["name"], got)
    return len(doc["cases"])


def vincenty_m(lat1, lon1, lat2, lon2):
    """Geodesic distance on WGS84 (Vincenty's inverse formula; mm-accurate at these
    distances)."""
    a, f = 6378137.0, 1 / 298.257223563
    b = a * (1 - f)
    if (lat1, lon1) == (lat2, lon2):
        return 0.0
    L = math.radians(lon2 - lon1)
    U1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    U2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    sinU1, cosU1, sinU2, cosU2 = math.sin(U1), math.cos(U1), math.sin(U2), math.cos(U2)
    lam = L
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cosU2 * sin_lam, cosU1 * sinU2 - sinU1 * cosU2 * cos_lam)
        cos_sigma = sinU1 * sinU2 + cosU1 * cosU2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cosU1 * cosU2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha ** 2
        cos_2sm = cos_sigma - 2 * sinU1 * sinU2 / cos2_alpha if cos2_alpha else 0.0
        C = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        prev = lam
        lam = L + (1 - C) * f * sin_alpha * (
            sigma + C * sin_sigma * (cos_2sm + C * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
        if abs(lam - prev) < 1e-12:
            break
    u2 = cos2_alpha * (a * a - b * b) / (b * b)
    A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
    B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
    d_sigma = B * sin_sigma * (cos_2sm + B / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2)
                               - B / 6 * cos_2sm * (-3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return b * A * (sigma - d_sigma)


def check_geofence():
    """Circle-only cases, by the accuracy rule of PROTOCOL.md. (Polygon distances need
    point-to-edge geodesics; those cases are checked by the Rust test only.)"""
    doc = load("geofence.json")
    cap = doc["accuracy_grace_cap_m"]
    checked = 0
    for case in doc["cases"]:
        zones = [(o, z) for o in case["offices"] for z in o["zones"]]
        if any(z["shape"]["type"] != "circle" for _, z in zones):
            continue
        fix, expect = case["fix"], case["expect"]
        a = fix["accuracy_m"]
        if not zones:
            verdict, office, distance = "GEOFENCE_NO_OFFICES", None, None
        else:
            scored = []
            for o, z in zones:
                c = z["shape"]["center"]
                d = max(0.0, vincenty_m(fix["latitude"], fix["longitude"],
                                        c["latitude"], c["longitude"]) - z["shape"]["radius_m"])
                scored.append((d, o))
            inside = [(d, o) for d, o in scored
                      if a <= o.get("max_accuracy_m", 50.0) and d <= min(a, cap)]
            if inside:
                d, o = min(inside, key=lambda t: t[0])
                verdict, office, distance = "GEOFENCE_INSIDE", o["id"], d
            else:
                d, o = min(scored, key=lambda t: t[0])
                if d <= a and a > o.get("max_accuracy_m", 50.0):
                    verdict, office, distance = "GEOFENCE_TOO_INACCURATE", None, None
                else:
                    verdict, office, distance = "GEOFENCE_OUTSIDE", o["id"], d
        assert verdict == expect["verdict"], (case["name"], verdict)
        assert office == expect.get("office_id"), (case["name"], office)
        if distance is not None:
            assert abs(distance - expect["distance_m"]) <= 0.1, (case["name"], distance)
        checked += 1
    return checked


def main():
    counts = (check_envelopes(), check_dhash(), check_geofence())
    print("vectors: %d envelope, %d dhash, %d geofence (circle) cases agree" % counts)


if __name__ == "__main__":
    sys.exit(main())
