//! ISO 3166-1 alpha-2 jurisdiction codes and a fixed-size set of them.
//!
//! A code is accepted only if ISO 3166-1 assigns it to a country or territory: user-assigned
//! codes (`AA`, `QM`–`QZ`, `XA`–`XZ`, `ZZ`), reserved and withdrawn codes are rejected, so a
//! directory cannot invent a jurisdiction that no policy could name.

use core::fmt;

use crate::error::{Result, RoutingDocument};

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, one row per first letter.
const ASSIGNED: [&str; 25] = [
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ",
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ",
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ",
    "DE DJ DK DM DO DZ",
    "EC EE EG EH ER ES ET",
    "FI FJ FK FM FO FR",
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY",
    "HK HM HN HR HT HU",
    "ID IE IL IM IN IO IQ IR IS IT",
    "JE JM JO JP",
    "KE KG KH KI KM KN KP KR KW KY KZ",
    "LA LB LC LI LK LR LS LT LU LV LY",
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ",
    "NA NC NE NF NG NI NL NO NP NR NU NZ",
    "OM",
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY",
    "QA",
    "RE RO RS RU RW",
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ",
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ",
    "UA UG UM US UY UZ",
    "VA VC VE VG VI VN VU",
    "WF WS",
    "YE YT",
    "ZA ZM ZW",
];

/// Number of 64-bit words for a bit per two-letter code (26 × 26 = 676 bits).
const WORDS: usize = 11;

/// The assigned codes as a bit set, built at compile time from [`ASSIGNED`].
#[allow(
    clippy::indexing_slicing,
    clippy::cast_lossless,
    reason = "evaluated at compile time: a bad index fails the build, not a run"
)]
const ASSIGNED_SET: JurisdictionSet = {
    let mut set = JurisdictionSet::EMPTY;
    let mut row = 0;
    while row < ASSIGNED.len() {
        let mut rest = ASSIGNED[row].as_bytes();
        while let [a, b, tail @ ..] = rest {
            let index = (*a - b'A') as usize * 26 + (*b - b'A') as usize;
            set.words[index / 64] |= 1 << (index % 64);
            rest = match tail {
                [b' ', more @ ..] => more,
                _ => tail,
            };
        }
        row += 1;
    }
    set
};

/// An assigned ISO 3166-1 alpha-2 code, such as `US` or `CA`: the jurisdiction a relay is in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Jurisdiction([u8; 2]);

impl Jurisdiction {
    /// Parses a code: exactly two upper-case ASCII letters that ISO 3166-1 assigns.
    ///
    /// # Errors
    /// [`RoutingDocument::InvalidJurisdiction`] otherwise (lower case, user-assigned codes
    /// such as `XX`, and unassigned ones included).
    pub fn parse(code: &str) -> Result<Self> {
        match *code.as_bytes() {
            [a, b] => Self::from_bytes([a, b]),
            _ => Err(RoutingDocument::InvalidJurisdiction.into()),
        }
    }

    /// Parses the two bytes of a code (as carried in a policy encoding).
    ///
    /// # Errors
    /// [`RoutingDocument::InvalidJurisdiction`] unless the bytes are an assigned code.
    pub fn from_bytes(code: [u8; 2]) -> Result<Self> {
        let j = Self(code);
        if code.iter().all(u8::is_ascii_uppercase) && ASSIGNED_SET.contains(j) {
            Ok(j)
        } else {
            Err(RoutingDocument::InvalidJurisdiction.into())
        }
    }

    /// The two ASCII bytes.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0
    }

    /// The code as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Always two ASCII letters: checked on construction.
        core::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The position of this code in a [`JurisdictionSet`] (0..676).
    fn index(self) -> usize {
        let [a, b] = self.0;
        usize::from(a.wrapping_sub(b'A') % 26) * 26 + usize::from(b.wrapping_sub(b'A') % 26)
    }
}

impl fmt::Debug for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Jurisdiction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of jurisdictions: one bit per two-letter code, so membership is a single load.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct JurisdictionSet {
    words: [u64; WORDS],
}

impl JurisdictionSet {
    /// The empty set.
    pub const EMPTY: Self = Self { words: [0; WORDS] };

    /// Every assigned ISO 3166-1 code.
    #[must_use]
    pub const fn all() -> Self {
        ASSIGNED_SET
    }

    /// Whether `j` is in the set.
    #[must_use]
    pub fn contains(&self, j: Jurisdiction) -> bool {
        let i = j.index();
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Adds `j`.
    pub fn insert(&mut self, j: Jurisdiction) {
        let i = j.index();
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    /// The members of both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & b)
    }

    /// The members of either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a | b)
    }

    /// The members of `self` that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & !b)
    }

    /// Whether every member of `self` is in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &Self) -> bool {
        self.difference(other) == Self::EMPTY
    }

    /// The number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set has no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::EMPTY
    }

    /// The members in ascending (alphabetical) order.
    pub fn iter(&self) -> impl Iterator<Item = Jurisdiction> + '_ {
        (0..26u8).flat_map(move |a| {
            (0..26u8).filter_map(move |b| {
                let j = Jurisdiction([b'A' + a, b'A' + b]);
                self.contains(j).then_some(j)
            })
        })
    }

    fn zip(&self, other: &Self, f: impl Fn(u64, u64) -> u64) -> Self {
        let mut out = Self::EMPTY;
        for ((o, a), b) in out.words.iter_mut().zip(&self.words).zip(&other.words) {
            *o = f(*a, *b);
        }
        out
    }
}

impl FromIterator<Jurisdiction> for JurisdictionSet {
    fn from_iter<I: IntoIterator<Item = Jurisdiction>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for j in iter {
            set.insert(j);
        }
        set
    }
}

impl fmt::Debug for JurisdictionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_249_assigned_codes_parse() {
        assert_eq!(JurisdictionSet::all().len(), 249);
        let mut parsed = 0;
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = [a, b];
                let s = core::str::from_utf8(&code).unwrap();
                if let Ok(j) = Jurisdiction::parse(s) {
                    assert_eq!(j.as_str(), s);
                    parsed += 1;
                }
            }
        }
        assert_eq!(parsed, 249);
        for ok in ["US", "CA", "CN", "DE", "AX", "ZW", "SS", "BQ"] {
            assert!(Jurisdiction::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn unassigned_and_malformed_codes_are_rejected() {
        let bad = RoutingDocument::InvalidJurisdiction.into();
        for code in [
            "", "U", "USA", "us", "Us", "XX", "ZZ", "AA", "QZ", "UK", "EU", "U1", "ÜS",
        ] {
            assert_eq!(Jurisdiction::parse(code), Err(bad), "{code:?}");
        }
        assert_eq!(Jurisdiction::from_bytes([0, 0]), Err(bad));
        assert_eq!(Jurisdiction::from_bytes([b'U', 0xff]), Err(bad));
    }

    #[test]
    fn set_algebra() {
        let j = |s| Jurisdiction::parse(s).unwrap();
        let a: JurisdictionSet = [j("US"), j("CA"), j("CN")].into_iter().collect();
        let b: JurisdictionSet = [j("CA"), j("DE")].into_iter().collect();
        assert_eq!(a.intersection(&b).iter().collect::<Vec<_>>(), [j("CA")]);
        assert_eq!(a.union(&b).len(), 4);
        assert_eq!(
            a.difference(&b).iter().collect::<Vec<_>>(),
            [j("CN"), j("US")]
        );
        assert!(a.intersection(&b).is_subset(&a));
        assert!(!a.is_subset(&b));
        assert!(JurisdictionSet::EMPTY.is_empty());
        assert_eq!(format!("{a:?}"), "{CA, CN, US}");
    }
}
