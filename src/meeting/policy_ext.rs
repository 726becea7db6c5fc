//! The meeting's geofence policy as a GroupContext extension of ours.
//!
//! ```text
//!  Extension {
//!      extension_type = 0xF0A1            (private use, RFC 9420 §17.3: 0xF000-0xFFFF)
//!      extension_data = Policy::encode_canonical()
//!  }
//!  Extension { required_capabilities: extension_types = [0xF0A1] }   (RFC 9420 §11.1)
//! ```
//!
//! Because the policy is in the GroupContext, it is part of every epoch's key schedule: all
//! members agree on it or do not share keys (and so not the security code). The
//! `required_capabilities` extension makes the group refuse members whose KeyPackage does
//! not understand the policy. A change is a GroupContextExtensions commit.

use crate::codec::Writer;
use crate::error::{PeerMisbehaved, Result};
use crate::mls::wire::{Extension, ExtensionType};
use crate::routing::Policy;

/// `meetkey_geofence`: the meeting's [`Policy`], canonically encoded.
pub(crate) const GEOFENCE_EXTENSION: ExtensionType = ExtensionType(0xF0A1);

/// The `required_capabilities` extension naming the meeting's extensions.
fn required_capabilities(with_governance: bool, with_media: bool) -> Extension {
    let mut w = Writer::with_capacity(8);
    // extension_types<V>, proposal_types<V>, credential_types<V>.
    w.write_prefixed(|w| {
        w.write_u16(GEOFENCE_EXTENSION.0);
        if with_governance {
            w.write_u16(super::governance::GOVERNANCE_EXTENSION.0);
        }
        if with_media {
            w.write_u16(super::media_ext::MEDIA_EXTENSION.0);
        }
    });
    w.write_prefixed(|_| {});
    w.write_prefixed(|_| {});
    Extension {
        extension_type: ExtensionType::REQUIRED_CAPABILITIES,
        extension_data: w.as_bytes().to_vec(),
    }
}

/// The GroupContext extensions of a new meeting with `policy`, `governance` and `media`.
#[must_use]
pub(crate) fn policy_extensions(
    policy: &Policy,
    governance: &super::Governance,
    media: &super::media_ext::MediaParams,
) -> Vec<Extension> {
    vec![
        required_capabilities(true, true),
        Extension {
            extension_type: GEOFENCE_EXTENSION,
            extension_data: policy.encode_canonical(),
        },
        governance.extension(),
        media.extension(),
    ]
}

/// `current` with the policy extension replaced by `policy` (others kept, in order), and
/// `required_capabilities` added if it was missing.
pub(super) fn replace_policy(current: &[Extension], policy: &Policy) -> Vec<Extension> {
    let mut out: Vec<Extension> = current
        .iter()
        .filter(|e| e.extension_type != GEOFENCE_EXTENSION)
        .cloned()
        .collect();
    if !out
        .iter()
        .any(|e| e.extension_type == ExtensionType::REQUIRED_CAPABILITIES)
    {
        let with_governance = out
            .iter()
            .any(|e| e.extension_type == super::governance::GOVERNANCE_EXTENSION);
        out.insert(0, required_capabilities(with_governance, false));
    }
    out.push(Extension {
        extension_type: GEOFENCE_EXTENSION,
        extension_data: policy.encode_canonical(),
    });
    out
}

/// The meeting policy carried by GroupContext `extensions`.
///
/// # Errors
/// [`PeerMisbehaved::MeetingPolicyMissing`] when the extension is absent or does not decode
/// canonically.
pub(super) fn policy_of(extensions: &[Extension]) -> Result<Policy> {
    let ext = extensions
        .iter()
        .find(|e| e.extension_type == GEOFENCE_EXTENSION)
        .ok_or(PeerMisbehaved::MeetingPolicyMissing)?;
    Policy::decode_canonical(&ext.extension_data)
        .map_err(|_| PeerMisbehaved::MeetingPolicyMissing.into())
}
