use super::*;
use crate::error::{ApiMisuse, Error};

fn inv(e: InvalidMessage) -> Error {
    Error::InvalidMessage(e)
}

#[test]
fn varint_examples_from_rfc() {
    // RFC 9420 §2.1.2 examples.
    assert_eq!(
        Reader::new(&[0x9d, 0x7f, 0x3e, 0x7d]).read_varint(),
        Ok(494_878_333)
    );
    assert_eq!(Reader::new(&[0x7b, 0xbd]).read_varint(), Ok(15293));
    assert_eq!(Reader::new(&[0x25]).read_varint(), Ok(37));
}

#[test]
fn varint_round_trips_at_every_boundary() {
    for v in [0usize, 1, 63, 64, 16383, 16384, (1 << 30) - 1] {
        let mut w = Writer::new();
        w.write_varint(v);
        let bytes = w.into_bytes().unwrap();
        let expected_len = if v < 64 {
            1
        } else if v < 16384 {
            2
        } else {
            4
        };
        assert_eq!(bytes.len(), expected_len, "{v}");
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_varint().unwrap() as usize, v);
        assert!(r.is_empty());
    }
}

#[test]
fn varint_rejects_non_minimal_and_bad_prefix() {
    assert_eq!(
        Reader::new(&[0x40, 0x3f]).read_varint(),
        Err(inv(InvalidMessage::NonMinimalVarint))
    );
    assert_eq!(
        Reader::new(&[0x40, 0x00]).read_varint(),
        Err(inv(InvalidMessage::NonMinimalVarint))
    );
    assert_eq!(
        Reader::new(&[0x80, 0x00, 0x3f, 0xff]).read_varint(),
        Err(inv(InvalidMessage::NonMinimalVarint))
    );
    assert_eq!(
        Reader::new(&[0xc0, 0, 0, 0, 0, 0, 0, 1]).read_varint(),
        Err(inv(InvalidMessage::InvalidVarintPrefix))
    );
    assert_eq!(
        Reader::new(&[0x40]).read_varint(),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(
        Reader::new(&[0x80, 1, 2]).read_varint(),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(
        Reader::new(&[]).read_varint(),
        Err(inv(InvalidMessage::Truncated))
    );
}

#[test]
fn writer_refuses_to_encode_oversized_lengths() {
    let mut w = Writer::new();
    w.write_varint(1 << 30);
    assert!(w.overflowed());
    assert_eq!(
        w.into_bytes(),
        Err(Error::ApiMisuse(ApiMisuse::EncodingOverflow))
    );
}

#[test]
fn opaque_is_bounded_before_reading() {
    // A prefix claiming 1 GiB with 3 bytes behind it: rejected by the maximum first.
    let bytes = [0xbf, 0xff, 0xff, 0xff, 1, 2, 3];
    assert_eq!(
        Reader::new(&bytes).read_opaque(1024),
        Err(inv(InvalidMessage::LengthTooLarge))
    );
    // Within the maximum but longer than the input: truncated.
    assert_eq!(
        Reader::new(&bytes).read_opaque(usize::MAX),
        Err(inv(InvalidMessage::Truncated))
    );
    let mut r = Reader::new(&[3, 1, 2, 3, 9]);
    assert_eq!(r.read_opaque(3).unwrap(), &[1, 2, 3]);
    assert_eq!(r.finish(), Err(inv(InvalidMessage::TrailingBytes)));
    assert_eq!(r.read_u8().unwrap(), 9);
    assert_eq!(r.finish(), Ok(()));
}

#[test]
fn fixed_integers_are_truncation_checked() {
    assert_eq!(
        Reader::new(&[1]).read_u16(),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(
        Reader::new(&[1, 2, 3]).read_u32(),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(
        Reader::new(&[0; 7]).read_u64(),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(u64::decode_exact(&[0, 0, 0, 0, 0, 0, 1, 2]), Ok(258));
    assert_eq!(
        u16::decode_exact(&[0, 1, 2]),
        Err(inv(InvalidMessage::TrailingBytes))
    );
}

#[test]
fn vectors_of_items_round_trip_and_reject_overruns() {
    let items: Vec<u16> = vec![1, 2, 0xffff];
    let mut w = Writer::new();
    w.write_vec(&items);
    let bytes = w.into_bytes().unwrap();
    assert_eq!(bytes, [6, 0, 1, 0, 2, 0xff, 0xff]);
    assert_eq!(Reader::new(&bytes).read_vec::<u16>(64).unwrap(), items);
    // An item straddling the end of the vector.
    assert_eq!(
        Reader::new(&[3, 0, 1, 0]).read_vec::<u16>(64),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(
        Reader::new(&bytes).read_vec::<u16>(5),
        Err(inv(InvalidMessage::LengthTooLarge))
    );
}

#[test]
fn long_prefixed_bodies_get_minimal_prefixes() {
    for n in [0usize, 63, 64, 300, 16383, 16384, 70000] {
        let mut w = Writer::new();
        w.write_u8(0xaa);
        w.write_prefixed(|w| w.write_raw(&vec![7; n]));
        let bytes = w.into_bytes().unwrap();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_u8().unwrap(), 0xaa);
        assert_eq!(r.read_opaque(usize::MAX).unwrap().len(), n);
        assert!(r.is_empty());
    }
}

#[test]
fn optional_presence_octet() {
    assert_eq!(Option::<u8>::decode_exact(&[0]), Ok(None));
    assert_eq!(Option::<u8>::decode_exact(&[1, 5]), Ok(Some(5)));
    assert_eq!(
        Option::<u8>::decode_exact(&[2, 5]),
        Err(inv(InvalidMessage::InvalidOptionalPresence))
    );
    assert_eq!(
        Option::<u8>::decode_exact(&[1]),
        Err(inv(InvalidMessage::Truncated))
    );
    assert_eq!(Some(5u8).to_bytes().unwrap(), [1, 5]);
    assert_eq!(None::<u8>.to_bytes().unwrap(), [0]);
}

crate::codepoint! {
    /// A test registry.
    struct Colour(u16) {
        /// Red.
        RED = 1,
        /// Green.
        GREEN = 2,
    }
}

#[test]
fn unknown_code_points_round_trip() {
    let grease = Colour::decode_exact(&[0x0a, 0x0a]).unwrap();
    assert_eq!(grease, Colour(0x0a0a));
    assert_eq!(grease.name(), None);
    assert_eq!(format!("{grease:?}"), "Colour(0xa0a)");
    assert_eq!(grease.to_bytes().unwrap(), [0x0a, 0x0a]);
    assert_eq!(format!("{:?}", Colour::GREEN), "GREEN");
    assert_eq!(Colour::decode_exact(&[0, 1]), Ok(Colour::RED));
}
