//! Credentials (RFC 9420 §5.3).
//!
//! A credential type that meetkey does not know cannot be decoded: the body of a
//! `Credential` has no length prefix, so its end cannot be found. Unknown types therefore
//! fail with [`Unsupported::CredentialType`]; only a [`CredentialType`] code point on its own
//! (as listed in `Capabilities.credentials`) round-trips unknown and GREASE values.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{InvalidMessage, Result, Unsupported};

use super::MAX_VEC_LEN;

crate::codepoint! {
    /// `CredentialType` (RFC 9420 §5.3, §17.7). Unknown and GREASE values round-trip.
    pub struct CredentialType(u16) {
        /// `basic`: a bare identity chosen by the application.
        BASIC = 0x0001,
        /// `x509`: a chain of DER-encoded X.509 certificates.
        X509 = 0x0002,
    }
}

/// One DER-encoded X.509 certificate of an `x509` credential.
///
/// ```text
/// struct {
///     opaque cert_data<V>;
/// } Certificate;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Certificate {
    /// The DER encoding of the certificate.
    pub cert_data: Vec<u8>,
}

impl Decode for Certificate {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            cert_data: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for Certificate {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.cert_data);
    }
}

/// The identity a member presents, bound to its signature key by the Authentication Service
/// (RFC 9420 §5.3).
///
/// ```text
/// struct {
///     CredentialType credential_type;
///     select (Credential.credential_type) {
///         case basic:
///             opaque identity<V>;
///
///         case x509:
///             Certificate certificates<V>;
///     };
/// } Credential;
/// ```
///
/// Decoding fails with [`InvalidMessage::InvalidValue`] for the reserved type 0 and with
/// [`Unsupported::CredentialType`] for any other type but `basic` and `x509`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `basic`: an application-defined identity.
    Basic {
        /// `identity<V>`.
        identity: Vec<u8>,
    },
    /// `x509`: the end-entity certificate first, then (optionally) its chain.
    X509 {
        /// `certificates<V>`: each certificate's DER encoding (its `cert_data`).
        certificates: Vec<Vec<u8>>,
    },
}

impl Credential {
    /// The type of this credential.
    #[must_use]
    pub(crate) const fn credential_type(&self) -> CredentialType {
        match self {
            Self::Basic { .. } => CredentialType::BASIC,
            Self::X509 { .. } => CredentialType::X509,
        }
    }
}

impl Decode for Credential {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match CredentialType::decode(r)? {
            CredentialType::BASIC => Ok(Self::Basic {
                identity: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            }),
            CredentialType::X509 => Ok(Self::X509 {
                certificates: r
                    .read_vec::<Certificate>(MAX_VEC_LEN)?
                    .into_iter()
                    .map(|c| c.cert_data)
                    .collect(),
            }),
            CredentialType(0) => Err(InvalidMessage::InvalidValue.into()),
            CredentialType(other) => Err(Unsupported::CredentialType(other).into()),
        }
    }
}

impl Encode for Credential {
    fn encode(&self, w: &mut Writer) {
        self.credential_type().encode(w);
        match self {
            Self::Basic { identity } => w.write_opaque(identity),
            Self::X509 { certificates } => w.write_prefixed(|w| {
                for cert_data in certificates {
                    w.write_opaque(cert_data);
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mls::wire::testing::check_round_trip;

    #[test]
    fn basic_and_x509_round_trip_and_every_truncation_fails() {
        check_round_trip(&Credential::Basic {
            identity: b"alice".to_vec(),
        });
        check_round_trip(&Credential::X509 {
            certificates: vec![vec![0x30, 1, 2], vec![]],
        });
        assert_eq!(
            Credential::decode_exact(&[0, 1, 2, b'h', b'i']),
            Ok(Credential::Basic {
                identity: b"hi".to_vec()
            })
        );
    }

    #[test]
    fn reserved_and_unknown_types_are_rejected() {
        assert_eq!(
            Credential::decode_exact(&[0, 0, 0]),
            Err(InvalidMessage::InvalidValue.into())
        );
        // GREASE: the body cannot be skipped, so the credential cannot be decoded.
        assert_eq!(
            Credential::decode_exact(&[0x0a, 0x0a, 0]),
            Err(Unsupported::CredentialType(0x0a0a).into())
        );
        // The bare code point does round-trip unknown values.
        assert_eq!(
            CredentialType::decode_exact(&[0x0a, 0x0a]),
            Ok(CredentialType(0x0a0a))
        );
    }

    #[test]
    fn certificate_overrunning_the_chain_is_rejected() {
        // certificates<V> of 2 bytes holding a cert_data claiming 3.
        assert_eq!(
            Credential::decode_exact(&[0, 2, 2, 3, 1]),
            Err(InvalidMessage::Truncated.into())
        );
    }
}
