//! Commits (RFC 9420 §12.4).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::Result;

use super::{ProposalOrRef, UpdatePath, MAX_VEC_LEN};

/// Moves the group to a new epoch by applying a list of proposals, optionally with a new
/// path of keys from the committer's leaf (RFC 9420 §12.4).
///
/// ```text
/// struct {
///     ProposalOrRef proposals<V>;
///     optional<UpdatePath> path;
/// } Commit;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    /// The proposals applied, by value or by reference, in order.
    pub proposals: Vec<ProposalOrRef>,
    /// The committer's update path, if any.
    pub path: Option<UpdatePath>,
}

impl Decode for Commit {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            proposals: r.read_vec(MAX_VEC_LEN)?,
            path: Option::decode(r)?,
        })
    }
}

impl Encode for Commit {
    fn encode(&self, w: &mut Writer) {
        w.write_vec(&self.proposals);
        self.path.encode(w);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::InvalidMessage;
    use crate::mls::wire::proposal::tests::every_proposal;
    use crate::mls::wire::testing::check_round_trip;
    use crate::mls::wire::update_path::tests::sample as sample_path;

    pub(crate) fn sample() -> Commit {
        let mut proposals: Vec<_> = every_proposal()
            .into_iter()
            .map(ProposalOrRef::Proposal)
            .collect();
        proposals.push(ProposalOrRef::Reference(vec![7; 32]));
        Commit {
            proposals,
            path: Some(sample_path()),
        }
    }

    #[test]
    fn round_trips_with_and_without_path_and_every_truncation_fails() {
        check_round_trip(&sample());
        check_round_trip(&Commit {
            proposals: vec![],
            path: None,
        });
        assert_eq!(
            Commit::decode_exact(&[0, 0]),
            Ok(Commit {
                proposals: vec![],
                path: None
            })
        );
    }

    #[test]
    fn bad_path_presence_is_rejected() {
        assert_eq!(
            Commit::decode_exact(&[0, 2]),
            Err(InvalidMessage::InvalidOptionalPresence.into())
        );
    }
}
