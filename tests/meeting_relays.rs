//! The meeting example's scenario with fewer participants: relays on loopback TCP see only
//! ciphertext, never key material, and the excluded jurisdiction is never used — even when
//! the home region's primaries fail and the excluded relay is the least loaded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/meeting/scenario.rs"]
mod scenario;

#[test]
fn relays_see_only_ciphertext_and_the_fence_holds() {
    let opts = scenario::Options {
        participants: 5,
        frames_per_round: 2,
        seed: 7,
        verbose: false,
        ds: None,
    };
    let report = scenario::run(&opts).unwrap();
    println!("{}", report.timeline.join("\n"));

    // Media flowed: every round decrypted everything (run() fails otherwise).
    assert!(report.frames_sent > 0);
    assert!(report.frames_decrypted >= report.frames_sent);
    assert!(report.codes_match);
    // Epochs: Welcome adds, two admitted join requests, one rejoin, a leave, a rotation,
    // a commit race (the winner, then the loser's re-issued rotation).
    assert_eq!(report.final_epoch, 8);
    // The delivery service ordered every handshake, refused the race's second commit, and
    // saw neither plaintext nor key material.
    assert_eq!(report.ds.conflicts, 1);
    assert!(report.ds.published >= 9);
    assert!(!report.ds.plaintext_leaked && !report.ds.key_material_leaked);
    assert!(!report.ds.capture.is_empty());

    // The audits.
    assert!(!report.plaintext_leaked, "plaintext in a relay capture");
    assert!(
        !report.key_material_leaked,
        "key material in a relay capture"
    );
    for row in &report.relays {
        assert!(
            !row.capture
                .windows(scenario::PLAINTEXT_MARKER.len())
                .any(|w| w == scenario::PLAINTEXT_MARKER),
            "{} saw a plaintext marker",
            row.id
        );
    }
    // The audit itself can fail: a capture with a plaintext frame is detected.
    let leaky = [b"xx".as_slice(), scenario::PLAINTEXT_MARKER, b"p01|frame"].concat();
    assert!(leaky
        .windows(scenario::PLAINTEXT_MARKER.len())
        .any(|w| w == scenario::PLAINTEXT_MARKER));

    // The fence: excluded relays (CN) exist, one is the least loaded, and none saw a byte.
    assert_eq!(report.excluded_relays, ["eu-w-x1", "ap-e-1"]);
    assert!(scenario::excluded_used(&report).is_empty());
    let max_weight = report.relays.iter().map(|r| r.weight).max().unwrap();
    assert!(report
        .relays
        .iter()
        .any(|r| r.weight == max_weight && report.excluded_relays.contains(&r.id)));

    // The outage moved everyone still in the meeting to the allowed secondary.
    for row in report.routes.iter().filter(|r| r.relay != "(left)") {
        assert_eq!(row.relay, "eu-w-s1", "{row:?}");
        assert!(row.history.len() >= 2, "{row:?}");
        assert!(!row
            .history
            .iter()
            .any(|h| report.excluded_relays.contains(h)));
    }
    let secondary = report.relays.iter().find(|r| r.id == "eu-w-s1").unwrap();
    assert!(secondary.frames_in > 0);
}
