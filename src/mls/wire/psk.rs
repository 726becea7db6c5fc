//! Pre-shared key identifiers (RFC 9420 §8.4).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{InvalidMessage, Result};

use super::MAX_VEC_LEN;

/// `ResumptionPSKUsage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ResumptionPskUsage {
    /// `application(1)`.
    Application,
    /// `reinit(2)`.
    Reinit,
    /// `branch(3)`.
    Branch,
}

impl Decode for ResumptionPskUsage {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::Application),
            2 => Ok(Self::Reinit),
            3 => Ok(Self::Branch),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for ResumptionPskUsage {
    fn encode(&self, w: &mut Writer) {
        w.write_u8(match self {
            Self::Application => 1,
            Self::Reinit => 2,
            Self::Branch => 3,
        });
    }
}

/// The kind of PSK and what identifies it (the `select (psktype)` of `PreSharedKeyID`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Psk {
    /// `external(1)`: a PSK provisioned by the application.
    External {
        /// `psk_id<V>`.
        psk_id: Vec<u8>,
    },
    /// `resumption(2)`: the `resumption_psk` of an epoch of a group.
    Resumption {
        /// `usage`.
        usage: ResumptionPskUsage,
        /// `psk_group_id<V>`.
        psk_group_id: Vec<u8>,
        /// `psk_epoch`.
        psk_epoch: u64,
    },
}

/// `PreSharedKeyID`.
///
/// ```text
/// struct {
///   PSKType psktype;
///   select (PreSharedKeyID.psktype) {
///     case external:   opaque psk_id<V>;
///     case resumption: ResumptionPSKUsage usage; opaque psk_group_id<V>; uint64 psk_epoch;
///   };
///   opaque psk_nonce<V>;
/// } PreSharedKeyID;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PreSharedKeyId {
    /// The PSK type and identifier.
    pub psk: Psk,
    /// A fresh random value of length `KDF.Nh`.
    pub psk_nonce: Vec<u8>,
}

impl Decode for PreSharedKeyId {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let psk = match r.read_u8()? {
            1 => Psk::External {
                psk_id: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            },
            2 => Psk::Resumption {
                usage: ResumptionPskUsage::decode(r)?,
                psk_group_id: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
                psk_epoch: r.read_u64()?,
            },
            _ => return Err(InvalidMessage::InvalidValue.into()),
        };
        Ok(Self {
            psk,
            psk_nonce: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for PreSharedKeyId {
    fn encode(&self, w: &mut Writer) {
        match &self.psk {
            Psk::External { psk_id } => {
                w.write_u8(1);
                w.write_opaque(psk_id);
            }
            Psk::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } => {
                w.write_u8(2);
                usage.encode(w);
                w.write_opaque(psk_group_id);
                w.write_u64(*psk_epoch);
            }
        }
        w.write_opaque(&self.psk_nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject_unknown_types() {
        let ids = [
            PreSharedKeyId {
                psk: Psk::External { psk_id: vec![1, 2] },
                psk_nonce: vec![3; 32],
            },
            PreSharedKeyId {
                psk: Psk::Resumption {
                    usage: ResumptionPskUsage::Branch,
                    psk_group_id: b"g".to_vec(),
                    psk_epoch: 9,
                },
                psk_nonce: vec![4; 32],
            },
        ];
        for id in ids {
            let bytes = id.to_bytes().unwrap();
            assert_eq!(PreSharedKeyId::decode_exact(&bytes).unwrap(), id);
        }
        assert_eq!(
            PreSharedKeyId::decode_exact(&[0, 0, 0]),
            Err(InvalidMessage::InvalidValue.into())
        );
        assert_eq!(
            PreSharedKeyId::decode_exact(&[3, 0, 0]),
            Err(InvalidMessage::InvalidValue.into())
        );
        assert_eq!(
            PreSharedKeyId::decode_exact(&[2, 4, 0]),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
}
