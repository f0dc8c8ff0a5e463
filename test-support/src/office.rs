//! The test office (Dinas Kominfo in Bengkulu, WIB) and the people who work there.

use hadir_core::geofence::LatLon;
use hadir_core::ids::{PersonId, PersonIdKind};

/// Id of the test office.
pub const OFFICE: &str = "kominfo";

/// Centre of the test office (Bengkulu).
pub const CENTER: LatLon = LatLon {
    latitude: -3.7956,
    longitude: 102.2592,
};

/// Budi's NIP (born 1985-03-12, TMT 2010-01, male, serial 003).
pub const NIP_A: &str = "198503122010011003";
/// Siti's NIP (born 1990-09-13, TMT 2015-03, female, serial 001).
pub const NIP_B: &str = "199009132015032001";
/// Andi's honorer id (a 16-digit NIK).
pub const NON_ASN_C: &str = "1771010101900001";

/// One person of the test office.
#[derive(Debug, Clone, Copy)]
pub struct TestPerson {
    /// The kind of id.
    pub kind: PersonIdKind,
    /// The id as issued.
    pub id: &'static str,
    /// The display name.
    pub name: &'static str,
}

impl TestPerson {
    /// The typed id.
    pub fn person_id(&self) -> PersonId {
        PersonId::parse(self.kind, self.id).expect("a valid test id")
    }
}

/// The people of the test office: Budi and Siti (PNS) and Andi (honorer).
pub const TEST_PEOPLE: [TestPerson; 3] = [
    TestPerson {
        kind: PersonIdKind::Nip,
        id: NIP_A,
        name: "Budi",
    },
    TestPerson {
        kind: PersonIdKind::Nip,
        id: NIP_B,
        name: "Siti",
    },
    TestPerson {
        kind: PersonIdKind::NonAsn,
        id: NON_ASN_C,
        name: "Andi (honorer)",
    },
];

/// A circular office as an admin enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOffice {
    /// Office id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Fixed UTC offset in minutes (WIB: 420).
    pub utc_offset_minutes: i32,
    /// Centre of the circle.
    pub center: LatLon,
    /// Radius of the circle, metres.
    pub radius_m: f64,
    /// Worst GPS accuracy accepted, metres.
    pub max_accuracy_m: f64,
}

impl TestOffice {
    /// Dinas Kominfo: an 80 m circle around [`CENTER`], WIB, fixes up to 50 m.
    pub fn kominfo() -> TestOffice {
        TestOffice {
            id: OFFICE,
            name: "Dinas Kominfo",
            utc_offset_minutes: 420,
            center: CENTER,
            radius_m: 80.0,
            max_accuracy_m: 50.0,
        }
    }

    /// The arguments of `hadir-server office add` that create this office.
    pub fn cli_args(&self) -> Vec<String> {
        [
            "office",
            "add",
            "--id",
            self.id,
            "--name",
            self.name,
            "--utc-offset-minutes",
            &self.utc_offset_minutes.to_string(),
            "--lat",
            &self.center.latitude.to_string(),
            "--lon",
            &self.center.longitude.to_string(),
            "--radius-m",
            &self.radius_m.to_string(),
            "--max-accuracy-m",
            &self.max_accuracy_m.to_string(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// A point `north_m` metres north of the centre, as (latitude, longitude).
    pub fn north_of_center(&self, north_m: f64) -> (f64, f64) {
        (
            self.center.latitude + north_m / METRES_PER_DEGREE_LATITUDE,
            self.center.longitude,
        )
    }
}

/// Metres in one degree of latitude, near enough for placing test fixes.
const METRES_PER_DEGREE_LATITUDE: f64 = 111_320.0;

/// A point `north_m` metres north of the test office's centre.
pub fn north_of_center(north_m: f64) -> (f64, f64) {
    TestOffice::kominfo().north_of_center(north_m)
}

/// A NIP as a typed id.
pub fn nip(value: &str) -> PersonId {
    PersonId::parse(PersonIdKind::Nip, value).expect("a valid NIP")
}

/// A non-ASN (honorer) id as a typed id.
pub fn non_asn(value: &str) -> PersonId {
    PersonId::parse(PersonIdKind::NonAsn, value).expect("a valid non-ASN id")
}
