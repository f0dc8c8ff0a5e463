//! Key attestation at enrollment: the one rule the phone and the server share.
//!
//! An enrollment code is random, single-use and expiring, and only the server issued
//! it, so it makes a fresh challenge for free: the phone derives
//! [`attestation_challenge`] from the code the person typed or scanned and creates its
//! Android Keystore key with it (`setAttestationChallenge`); the leaf certificate of the
//! key's attestation chain then carries it, and the server derives the same bytes from
//! the code it receives. Both sides read the code through [`normalise_enrollment_code`],
//! so a code typed with spaces, dashes or in lower case hashes (and attests) the same.

use ring::digest;

/// Domain separation of the challenge (a version-1 attestation challenge, then a line
/// feed), so the bytes cannot be mistaken for any other hash of the code.
pub const ATTESTATION_CHALLENGE_DOMAIN: &[u8] = b"hadir-attest-v1\n";

/// Length of [`attestation_challenge`]: one SHA-256.
pub const ATTESTATION_CHALLENGE_LEN: usize = 32;

/// An enrollment code as typed, normalised: without whitespace or dashes, upper case
/// (codes are printed in groups like `ABCD-EFGH-JK` and read aloud).
pub fn normalise_enrollment_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The attestation challenge of an enrollment code:
/// `SHA-256("hadir-attest-v1\n" || normalised code)`.
pub fn attestation_challenge(enrollment_code: &str) -> [u8; ATTESTATION_CHALLENGE_LEN] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(ATTESTATION_CHALLENGE_DOMAIN);
    ctx.update(normalise_enrollment_code(enrollment_code).as_bytes());
    let mut out = [0u8; ATTESTATION_CHALLENGE_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_drops_spaces_and_dashes_and_upper_cases() {
        assert_eq!(normalise_enrollment_code(" abcd-EFGH jk\n"), "ABCDEFGHJK");
        assert_eq!(normalise_enrollment_code("ABCDEFGHJK"), "ABCDEFGHJK");
    }

    #[test]
    fn the_challenge_is_the_domain_separated_sha256_of_the_normalised_code() {
        // SHA-256 of "hadir-attest-v1\nABCDEFGHJK", computed independently:
        // printf 'hadir-attest-v1\nABCDEFGHJK' | sha256sum
        let expected = "5ce9a469da295f779ab4b3844859946672c8fc2cd683bb12b464b298e11cc059";
        let got = crate::envelope::hex(&attestation_challenge("abcd-efgh-jk"));
        assert_eq!(got.len(), 64);
        assert_eq!(got, expected);
        assert_eq!(
            attestation_challenge("ABCDEFGHJK"),
            attestation_challenge(" abcd efgh-jk ")
        );
        assert_ne!(
            attestation_challenge("ABCDEFGHJK"),
            attestation_challenge("ABCDEFGHJM")
        );
    }
}
