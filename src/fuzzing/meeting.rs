//! Meeting harness: restoring saved state (`Meeting::from_bytes`) from arbitrary bytes never
//! panics, and a restored meeting saves and restores again to the same epoch, members and
//! security code. `tests` replays it over the golden saved meeting and its mutations.

use crate::meeting::{MediaStream, Meeting, MeetingConfig};

/// Restores `data` as a saved meeting; whatever restores must round-trip.
#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
pub fn meeting_state(data: &[u8]) {
    let Ok(mut meeting) = Meeting::from_bytes(
        MeetingConfig::default(),
        data,
        &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
    ) else {
        return;
    };
    let mut frame = [0u8; 64];
    let _ = meeting.encrypt_frame(MediaStream::AUDIO, b"", b"fuzz", &mut frame);
    let code = meeting.security_code();
    let Ok(saved) = meeting.to_bytes() else {
        panic!("a restored meeting cannot be saved");
    };
    let Ok(again) = Meeting::from_bytes(
        MeetingConfig::default(),
        &saved,
        &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
    ) else {
        panic!("a saved meeting does not restore");
    };
    if again.epoch() != meeting.epoch()
        || again.participants() != meeting.participants()
        || again.security_code() != code
    {
        panic!("a save/restore round trip changed the meeting");
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "the mutation bytes are deliberately truncated"
)]
mod tests {
    use super::meeting_state;

    #[test]
    fn replays_the_golden_state_and_mutations() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/meeting_state_v1.bin"
        );
        let golden = std::fs::read(path).unwrap();
        meeting_state(&golden);
        let mut state = 0x9e37_79b9_u32;
        for i in 0..2000usize {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let mut m = golden.clone();
            let at = state as usize % m.len();
            match i % 3 {
                0 => m[at] ^= (state >> 8) as u8 | 1,
                1 => m.truncate(at),
                _ => m.insert(at, (state >> 16) as u8),
            }
            meeting_state(&m);
        }
        meeting_state(&[]);
    }
}
