//! The security code participants compare aloud, derived from the epoch authenticator.
//!
//! ```text
//!  input = "meetkey security code v1" ‖ uint64(epoch) ‖ opaque group_id<V>     (MLS varint length)
//!  mac   = MAC(key = epoch_authenticator, input)        the MLS suite's MAC (HMAC-SHA-256
//!                                                        for suites 1 and 3), 32 bytes
//!  group_i = uint32_be(mac[4i .. 4i+4]) mod 100000,  i = 0..8, printed as 5 digits
//!  code  = group_0 " " group_1 " " … " " group_7        e.g. "04817 93021 … 55310"
//! ```
//!
//! `epoch_authenticator` (RFC 9420 §8.7) comes from the epoch secret, which binds the whole
//! GroupContext: group id, epoch, tree hash, transcript and extensions (so the meeting's
//! policy too). Two participants who see the same code share the same epoch with the same
//! members and policy; an attacker in the middle would have to make the codes collide.
//! Each group carries log2(10^5) ≈ 16.6 bits, 8 groups ≈ 132.9 bits; the bias of reducing
//! 32 bits mod 10^5 is below 2^-15 per group. The epoch and group id are in the MAC input
//! as well, so codes of different epochs or meetings differ even if a caller mixed up
//! authenticators.

use core::fmt;

use crate::codec::Writer;
use crate::error::{Error, Result};
use crate::mls::group::Group;

/// The MAC label of the code (see the module docs).
pub(crate) const SECURITY_CODE_LABEL: &[u8] = b"meetkey security code v1";

/// The number of 5-digit groups.
pub(crate) const SECURITY_CODE_GROUPS: usize = 8;

/// A security code: 8 groups of 5 decimal digits. Not secret (it is read aloud), but only
/// meaningful to compare between participants of the same epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityCode {
    groups: [u32; SECURITY_CODE_GROUPS],
}

impl SecurityCode {
    /// The code of `group`'s current epoch.
    ///
    /// # Errors
    /// [`Error::Internal`] if the suite's MAC output were shorter than 32 bytes.
    pub(super) fn derive(group: &Group) -> Result<Self> {
        let mut w = Writer::with_capacity(64 + group.group_id().len());
        w.write_raw(SECURITY_CODE_LABEL);
        w.write_u64(group.epoch());
        w.write_opaque(group.group_id());
        let input = w.into_bytes()?;
        let mac = group
            .suite()
            .mac(&group.epoch_authenticator_secret().0, &input);
        let bytes = mac.as_bytes();
        let mut groups = [0u32; SECURITY_CODE_GROUPS];
        for (i, g) in groups.iter_mut().enumerate() {
            let start = i.checked_mul(4).ok_or(Error::Internal("code index"))?;
            let chunk: [u8; 4] = bytes
                .get(start..start.saturating_add(4))
                .and_then(|c| c.try_into().ok())
                .ok_or(Error::Internal("MAC shorter than 32 bytes"))?;
            *g = u32::from_be_bytes(chunk) % 100_000;
        }
        Ok(Self { groups })
    }

    /// The groups as numbers below 100 000.
    #[must_use]
    pub const fn groups(&self) -> &[u32; SECURITY_CODE_GROUPS] {
        &self.groups
    }
}

impl fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{g:05}")?;
        }
        Ok(())
    }
}
