"""Runs the independent Python client against the real hadir-server binary on
127.0.0.1: the admin CLI creates an office, a person and an enrollment code on a temporary
database; the client enrolls, uploads a selfie it normalised with Pillow, checks in
inside the geofence with a signed envelope and reads the decision.

Usage: test_against_server.py PATH/TO/hadir-server
"""

import os
import subprocess
import sys
import tempfile

import check_vectors
import hadir_client

NIP = "199001152015031002"
OFFICE = {"id": "dinas-uji", "lat": -3.7956, "lon": 102.2592, "radius_m": 80}


def admin(server, db, *args):
    done = subprocess.run([server, "--db", db, *args], check=True, capture_output=True,
                          text=True, timeout=60)
    return done.stdout.strip()


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def run(server, workdir):
    db = os.path.join(workdir, "hadir.db")
    admin(server, db, "office", "add", "--id", OFFICE["id"], "--name", "Dinas Uji",
          "--utc-offset-minutes", "420", "--lat", str(OFFICE["lat"]),
          "--lon", str(OFFICE["lon"]), "--radius-m", str(OFFICE["radius_m"]))
    admin(server, db, "person", "add", "--kind", "nip", "--id", NIP, "--name", "Uji Python",
          "--office", OFFICE["id"])
    code = admin(server, db, "enroll-code", "issue", "--person", NIP).splitlines()[-1]

    proc = subprocess.Popen(
        [server, "--db", db, "--selfie-dir", os.path.join(workdir, "selfies"), "serve",
         "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(workdir, "server.log"), "w"),
        text=True)
    try:
        line = proc.stdout.readline()  # blocks until the server says where it listens
        expect(line.startswith("listening on "), "server did not start: %r" % line)
        client = hadir_client.HadirClient("http://" + line.split()[-1])
        person = {"kind": "nip", "value": NIP}

        enrolled = client.enroll(code, person, {"kind": "platform_id", "value": "python-client"})
        expect(enrolled["person"]["is_device_owner"], "enrolled as owner: %s" % enrolled)
        config = client.config()
        expect([o["id"] for o in config["offices"]] == [OFFICE["id"]], config["offices"])

        selfie = hadir_client.normalise_selfie(hadir_client.camera_photo())
        expect(selfie[2:4] == b"\xff\xe0", "Pillow writes its JFIF header")
        stored = client.upload_selfie(selfie)
        expect(stored["created"] is True, "selfie stored: %s" % stored)

        verdict = {"geofence": "inside", "office_id": OFFICE["id"],
                   "zone_id": config["offices"][0]["zones"][0]["id"],
                   "distance_m": None, "issue_codes": []}
        payload, result = client.check_in(person, "check_in", OFFICE["lat"] + 0.0001,
                                          OFFICE["lon"], 10.0, selfie, verdict)
        print("decision:", result)
        expect(result["checkin_id"] == payload["checkin_id"], "result echoes the id")
        expect(result["status"] == "accepted", "accepted: %s" % result)
        expect("SELFIE_PHASH_MISMATCH" not in result["codes"], "our dHash is the server's")
        expect(result["office_id"] == OFFICE["id"], "counted for the office")
        expect(result["time_source"] == "anchored", "anchored time: %s" % result)

        # An anchor moved 8 hours back (a phone inventing its time) is refused.
        def back_eight_hours(evidence):
            anchor = evidence["anchor"]
            moved = dict(anchor, server_time_ms=anchor["server_time_ms"] - 8 * 3600_000)
            return dict(evidence, anchor=moved)

        _, forged = client.check_in(person, "check_in", OFFICE["lat"] + 0.0001, OFFICE["lon"],
                                    10.0, selfie, verdict, edit_time=back_eight_hours)
        expect(forged["status"] == "rejected", "forged anchor rejected: %s" % forged)
        expect("TIME_ANCHOR_FORGED" in forged["codes"], forged)

        # Outside: the same person 300 m north with a precise fix.
        _, outside = client.check_in(person, "check_out", OFFICE["lat"] + 0.0030,
                                     OFFICE["lon"], 5.0, selfie, dict(verdict, geofence="outside"))
        expect(outside["status"] == "rejected", "outside rejected: %s" % outside)
        expect("GEOFENCE_OUTSIDE" in outside["codes"], outside)
        expect(200 < outside["distance_m"] < 300, "distance beyond the edge: %s" % outside)
        expect("SELFIE_REUSED" in outside["codes"], "same selfie twice is flagged: %s" % outside)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    check_vectors.main()
    with tempfile.TemporaryDirectory(prefix="hadir-python-") as workdir:
        run(sys.argv[1], workdir)
    print("python client: enrolled, uploaded, checked in (accepted, no SELFIE_PHASH_MISMATCH), "
          "outside refused with distance_m")


if __name__ == "__main__":
    main()
