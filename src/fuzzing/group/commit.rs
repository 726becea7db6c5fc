//! The `commit_process` harness: a selector byte and a payload, against the three-member
//! fixture group (see the crate's fuzz/README.md for the modes and what each asserts).

use crate::mls::group::{CommitOptions, Group, ProcessedMessage, StagedCommit};
use crate::mls::wire::{Commit, MlsMessage, Proposal};

use super::*;

// ---------------------------------------------------------------------------------------
// Commit processing
// ---------------------------------------------------------------------------------------

/// What the first byte of a `commit_process` input selects (bits 0-1), besides the suite
/// (bit 2: suite 3, else 1), PrivateMessage handshakes (bit 3) and a fixture whose
/// GroupContext lists an external sender (bit 4, [`EXTERNAL_SENDERS_BIT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::fuzzing) enum Mode {
    /// The rest is an MLSMessage from the network, processed by every member.
    Network = 0,
    /// The rest is a list of proposals (`Proposal proposals<V>`) that Alice commits.
    AliceCommits = 1,
    /// The rest is one proposal that Carol sends and Bob then commits.
    CarolProposes = 2,
    /// The rest is a Commit that Alice, turned malicious, signs and sends as it is.
    MaliciousCommit = 3,
}

impl Mode {
    /// The mode a selector byte selects.
    const fn of(selector: u8) -> Self {
        match selector & 3 {
            0 => Self::Network,
            1 => Self::AliceCommits,
            2 => Self::CarolProposes,
            _ => Self::MaliciousCommit,
        }
    }

    /// The selector byte for this mode, suite and handshake wire format.
    #[cfg(test)]
    pub(in crate::fuzzing) fn byte(self, suite: u16, encrypt_handshake: bool) -> u8 {
        self as u8 | if suite == 3 { 4 } else { 0 } | if encrypt_handshake { 8 } else { 0 }
    }
}

/// The selector bit of a `commit_process` input for a fixture with an `external_senders`
/// extension: network inputs then reach the processing of external proposals
/// (RFC 9420 §12.1.8).
pub(in crate::fuzzing) const EXTERNAL_SENDERS_BIT: u8 = 16;

/// Commit processing (RFC 9420 §12.4.2) against the fixture group. The first byte selects
/// a [`Mode`]; the rest is its input. Whatever the input: a member that rejects a message
/// is unchanged; members that accept the same commit agree afterwards and can still talk;
/// a commit Alice manages to make is accepted by everyone else; a proposal a member
/// accepted and then committed is accepted by those who stored it; and a commit whose
/// confirmation tag cannot be right is never accepted.
///
/// # Panics
/// When one of those properties fails.
pub fn commit_process(data: &[u8]) {
    let _ = commit_outcome(data);
}

/// How far a `commit_process` input got: 0 rejected early, 1 some member accepted
/// something, 2 a commit was merged by a receiver.
pub(in crate::fuzzing) fn commit_outcome(data: &[u8]) -> u8 {
    let Some((&selector, rest)) = data.split_first() else {
        return 0;
    };
    let suite = if selector & 4 != 0 { 3 } else { 1 };
    let encrypt_handshake = selector & 8 != 0;
    let external = selector & EXTERNAL_SENDERS_BIT != 0;
    match Mode::of(selector) {
        Mode::Network => {
            let Some(msg) = decode_round_trip::<MlsMessage>(rest) else {
                return 0;
            };
            network(
                &mut Three::new_with(suite, encrypt_handshake, external),
                &msg,
            )
        }
        Mode::AliceCommits => {
            let mut r = Reader::new(rest);
            let Ok(proposals) = r.read_vec::<Proposal>(MAX_VEC_LEN) else {
                return 0;
            };
            let consumed = rest.len().saturating_sub(r.remaining().len());
            let mut w = crate::codec::Writer::new();
            w.write_vec(&proposals);
            assert_eq!(
                w.into_bytes().ok().as_deref(),
                rest.get(..consumed),
                "a proposal list did not re-encode to its input"
            );
            alice_commits(
                &mut Three::new_with(suite, encrypt_handshake, external),
                proposals,
            )
        }
        Mode::CarolProposes => {
            let Some(proposal) = decode_round_trip::<Proposal>(rest) else {
                return 0;
            };
            carol_proposes(
                &mut Three::new_with(suite, encrypt_handshake, external),
                proposal,
            )
        }
        Mode::MaliciousCommit => {
            let Some(commit) = decode_round_trip::<Commit>(rest) else {
                return 0;
            };
            malicious_commit(
                &mut Three::new_with(suite, encrypt_handshake, external),
                commit,
            );
            0
        }
    }
}

/// Every member processes `msg`: those that accept a commit merge it and must agree; if
/// some stored a proposal instead, the first of them commits and the others must accept.
fn network(f: &mut Three, msg: &MlsMessage) -> u8 {
    let mut staged: Vec<(usize, Box<StagedCommit>)> = Vec::new();
    let mut holders: Vec<usize> = Vec::new();
    let mut outcome = 0;
    for (i, g) in f.members().into_iter().enumerate() {
        let before = snapshot(g);
        match g.process_message(msg) {
            Err(_) => assert_eq!(snapshot(g), before, "a rejected message changed the group"),
            Ok(ProcessedMessage::Commit(s)) => staged.push((i, s)),
            Ok(ProcessedMessage::Proposal { .. }) => holders.push(i),
            Ok(ProcessedMessage::Application { sender, .. }) => {
                assert!(g.tree().leaf(sender).is_some(), "data from a non-member");
            }
        }
        outcome = 1;
    }
    if staged.is_empty() && !holders.is_empty() {
        return holders
            .first()
            .map_or(1, |&c| deliver_commit_of(f, c, &holders));
    }
    let mut merged: Vec<usize> = Vec::new();
    for (i, s) in staged {
        let Some(g) = f.members().into_iter().nth(i) else {
            continue;
        };
        let removes_us = s.removes_us();
        let merge = g.merge_staged_commit(*s);
        assert!(merge.is_ok(), "a staged commit does not merge: {merge:?}");
        assert_eq!(g.is_active(), !removes_us);
        if g.is_active() {
            merged.push(i);
        }
        outcome = 2;
    }
    check_merged(f, &merged);
    outcome
}

/// The members at `merged` (indices into [`Three::members`]) agree and can talk.
fn check_merged(f: &mut Three, merged: &[usize]) {
    let Three {
        alice,
        bob,
        carol,
        rng,
        ..
    } = f;
    let mut groups: Vec<&mut Group> = [alice, bob, carol]
        .into_iter()
        .enumerate()
        .filter(|(i, _)| merged.contains(i))
        .map(|(_, g)| g)
        .collect();
    if let Some((first, rest)) = groups.split_first_mut() {
        for g in rest.iter() {
            assert_agree(first, g);
        }
        assert_can_talk(first, rest, rng);
    }
}

/// Member `committer` commits what it holds; the members at `must_accept` must accept.
fn deliver_commit_of(f: &mut Three, committer: usize, must_accept: &[usize]) -> u8 {
    let Three {
        alice,
        bob,
        carol,
        rng,
        ..
    } = f;
    let mut groups = [alice, bob, carol];
    let Some(g) = groups.get_mut(committer) else {
        return 1;
    };
    let before = snapshot(g);
    let Ok(out) = g.commit(vec![], &CommitOptions::at(NOW), rng) else {
        // A commit that could not be made leaves nothing pending.
        assert_eq!(snapshot(g), before, "a failed commit changed the group");
        return 1;
    };
    assert!(g.merge_pending_commit().is_ok());
    let mut merged = vec![committer];
    for (i, g) in groups.iter_mut().enumerate() {
        if i == committer || !must_accept.contains(&i) {
            continue;
        }
        let got = g.process_message(&out.commit);
        assert!(
            matches!(got, Ok(ProcessedMessage::Commit(_))),
            "member {i} rejected a commit of proposals it accepted: {got:?}"
        );
        if let Ok(ProcessedMessage::Commit(s)) = got {
            assert!(g.merge_staged_commit(*s).is_ok());
            if g.is_active() {
                merged.push(i);
            }
        }
    }
    merged.sort_unstable();
    check_merged(f, &merged);
    2
}

/// Alice commits `proposals` by value; if she can, Bob and Carol must accept.
fn alice_commits(f: &mut Three, proposals: Vec<Proposal>) -> u8 {
    let before = snapshot(&f.alice);
    let Ok(out) = f.alice.commit(
        proposals.into_iter().map(crate::mls::Proposal).collect(),
        &CommitOptions::at(NOW),
        &mut f.rng,
    ) else {
        assert_eq!(
            snapshot(&f.alice),
            before,
            "a failed commit changed the group"
        );
        return 0;
    };
    assert!(f.alice.merge_pending_commit().is_ok());
    let mut merged = vec![0];
    for (i, g) in [&mut f.bob, &mut f.carol].into_iter().enumerate() {
        let got = g.process_message(&out.commit);
        assert!(
            matches!(got, Ok(ProcessedMessage::Commit(_))),
            "a receiver rejected a commit its committer made: {got:?}"
        );
        if let Ok(ProcessedMessage::Commit(s)) = got {
            assert!(g.merge_staged_commit(*s).is_ok());
            if g.is_active() {
                merged.push(i + 1);
            }
        }
    }
    check_merged(f, &merged);
    2
}

/// Carol sends `proposal`; Alice and Bob process it; Bob commits what he holds.
fn carol_proposes(f: &mut Three, proposal: Proposal) -> u8 {
    let Ok(msg) = f.carol.propose(crate::mls::Proposal(proposal), &mut f.rng) else {
        return 0;
    };
    let mut holders = vec![2];
    for (i, g) in [&mut f.alice, &mut f.bob].into_iter().enumerate() {
        let before = snapshot(g);
        match g.process_message(&msg) {
            Ok(ProcessedMessage::Proposal { .. }) => holders.push(i),
            Ok(other) => unreachable!("a proposal processed as {other:?}"),
            Err(_) => assert_eq!(snapshot(g), before, "a rejected proposal changed the group"),
        }
    }
    holders.sort_unstable();
    if !holders.contains(&1) {
        return 0;
    }
    deliver_commit_of(f, 1, &holders)
}

/// Alice signs `commit` as it is, with a confirmation tag that cannot be right; nobody it
/// leaves in the group may accept it, and rejecting it changes nothing.
fn malicious_commit(f: &mut Three, commit: Commit) {
    let Ok(msg) = f.alice.frame_commit_unchecked(commit, &mut f.rng) else {
        return;
    };
    for g in [&mut f.bob, &mut f.carol] {
        let before = snapshot(g);
        match g.process_message(&msg) {
            // A member the commit removes gets no path secret, so it cannot derive the new
            // epoch nor check the tag (RFC 9420 §12.4.2); everyone else must refuse.
            Ok(ProcessedMessage::Commit(s)) => assert!(
                s.removes_us(),
                "a commit with a wrong confirmation tag was accepted: {s:?}"
            ),
            Ok(other) => unreachable!("a commit processed as {other:?}"),
            Err(_) => assert_eq!(snapshot(g), before, "a rejected commit changed the group"),
        }
    }
}
