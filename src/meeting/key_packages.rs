//! The KeyPackages a client published and still holds the private keys of (RFC 9420 §10,
//! §16.8): found again by the Welcome that uses one, consumed only by a join that succeeds,
//! and a "last resort" KeyPackage that is never consumed, for when the delivery service has
//! handed out all the others.

use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::error::{ApiMisuse, InvalidMessage, PeerMisbehaved, Result};
use crate::mls::group::KeyPackageBundle;
use crate::mls::welcome::key_package_ref;
use crate::mls::wire::{KeyPackage, MlsMessage, MlsMessageBody};

use super::{Meeting, MeetingConfig};

/// The magic bytes in front of a saved store.
const MAGIC: &[u8; 4] = b"MKKS";
const VERSION: u16 = 1;

/// Our published KeyPackages with their private keys, by KeyPackageRef.
#[derive(Debug, Default)]
pub struct KeyPackageStore {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    reference: Vec<u8>,
    bundle: KeyPackageBundle,
    last_resort: bool,
}

impl KeyPackageStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `bundle` (whose KeyPackage the client publishes) until a join uses it; a
    /// `last_resort` one (RFC 9420 §16.8) is never consumed. Returns its KeyPackageRef.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for a
    /// KeyPackage of an unknown suite; [`ApiMisuse::DuplicateKeyPackage`] when a KeyPackage
    /// with the same reference is already held.
    pub fn add(&mut self, bundle: KeyPackageBundle, last_resort: bool) -> Result<Vec<u8>> {
        let suite = bundle.key_package.cipher_suite.suite()?;
        let reference = key_package_ref(&suite, &bundle.key_package)?;
        if self.entries.iter().any(|e| e.reference == reference) {
            return Err(ApiMisuse::DuplicateKeyPackage.into());
        }
        self.entries.push(Entry {
            reference: reference.clone(),
            bundle,
            last_resort,
        });
        Ok(reference)
    }

    /// The KeyPackage held under `reference`.
    #[must_use]
    pub fn key_package(&self, reference: &[u8]) -> Option<&KeyPackage> {
        self.entries
            .iter()
            .find(|e| e.reference == reference)
            .map(|e| &e.bundle.key_package)
    }

    /// How many KeyPackages are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The store with its private keys, to save (store it encrypted); zeroizes on drop.
    ///
    /// # Errors
    /// Only on an encoding overflow.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut w = Writer::with_capacity(4096 * (self.entries.len() + 1));
        w.write_raw(MAGIC);
        w.write_u16(VERSION);
        w.write_u32(u32::try_from(self.entries.len()).map_err(|_| ApiMisuse::EncodingOverflow)?);
        for e in &self.entries {
            w.write_u8(u8::from(e.last_resort));
            e.bundle.write_to(&mut w);
        }
        Ok(Zeroizing::new(w.into_bytes()?))
    }

    /// Restores a store saved by [`KeyPackageStore::to_bytes`].
    ///
    /// # Errors
    /// [`InvalidMessage`] for bytes that are not a saved store.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(4)? != MAGIC || r.read_u16()? != VERSION {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let n = r.read_u32()?;
        let mut store = Self::new();
        for _ in 0..n {
            let last_resort = match r.read_u8()? {
                0 => false,
                1 => true,
                _ => return Err(InvalidMessage::InvalidValue.into()),
            };
            store
                .add(KeyPackageBundle::read(&mut r)?, last_resort)
                .map_err(|_| InvalidMessage::InvalidValue)?;
        }
        r.finish()?;
        Ok(store)
    }

    /// The index of the entry a Welcome is addressed to.
    fn entry_for(&self, welcome: &MlsMessage) -> Result<usize> {
        let MlsMessageBody::Welcome(w) = &welcome.body else {
            return Err(ApiMisuse::UnexpectedContentType.into());
        };
        self.entries
            .iter()
            .position(|e| w.secrets.iter().any(|s| s.new_member == e.reference))
            .ok_or_else(|| PeerMisbehaved::NotForUs.into())
    }

    /// A copy of the bundle of entry `i` (a join takes its bundle by value).
    fn copy(&self, i: usize) -> Result<KeyPackageBundle> {
        let e = self.entries.get(i).ok_or(PeerMisbehaved::NotForUs)?;
        let mut w = Writer::with_capacity(4096);
        e.bundle.write_to(&mut w);
        let bytes = Zeroizing::new(w.into_bytes()?);
        KeyPackageBundle::read(&mut Reader::new(&bytes))
    }
}

impl Meeting {
    /// Joins from a Welcome with whichever KeyPackage of `store` it is addressed to. The
    /// KeyPackage is removed from the store only when the join succeeds (a last-resort one
    /// never is), so a bad or foreign Welcome costs nothing.
    ///
    /// # Errors
    /// [`PeerMisbehaved::NotForUs`] when the Welcome names none of the store's KeyPackages;
    /// as [`Meeting::join_welcome`].
    pub fn join_from_store(
        config: MeetingConfig,
        welcome: &MlsMessage,
        store: &mut KeyPackageStore,
    ) -> Result<Self> {
        let i = store.entry_for(welcome)?;
        let bundle = store.copy(i)?;
        let meeting = Self::join_welcome(config, welcome, bundle)?;
        if store.entries.get(i).is_some_and(|e| !e.last_resort) {
            store.entries.remove(i);
        }
        Ok(meeting)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::Error;
    use crate::meeting::tests::{kp, rng, three, NOW};

    /// Adds a fresh member to `alice`'s meeting with `key_package`; returns the Welcome.
    fn welcome_for(
        alice: &mut Meeting,
        key_package: &KeyPackage,
        r: &mut super::super::tests::R,
    ) -> MlsMessage {
        alice
            .add(std::slice::from_ref(key_package), NOW, r)
            .unwrap();
        alice.confirm_pending().unwrap();
        alice.take_welcome().unwrap()
    }

    /// The store finds the KeyPackage a Welcome is for, keeps it through a failed join and
    /// a foreign Welcome, consumes it on success, and survives a save and restore.
    #[test]
    fn a_failed_join_consumes_nothing_and_a_successful_one_consumes_the_key_package() {
        let (mut alice, ..) = three(90);
        let mut r = rng(91);
        let mut store = KeyPackageStore::new();
        let dave = kp("dave", &mut r);
        let dave_kp = dave.key_package.clone();
        let reference = store.add(dave, false).unwrap();
        store.add(kp("dave-2", &mut r), false).unwrap();
        assert_eq!(store.key_package(&reference), Some(&dave_kp));
        let saved = store.to_bytes().unwrap();
        let mut store = KeyPackageStore::from_bytes(&saved).unwrap();
        assert_eq!(store.len(), 2);
        let again = KeyPackageStore::from_bytes(&saved).unwrap();
        let copy = again.copy(0).unwrap();
        assert_eq!(
            store.add(copy, false),
            Err(ApiMisuse::DuplicateKeyPackage.into())
        );

        // A Welcome for someone else: not for us, nothing consumed.
        let (mut other, ..) = three(92);
        let erin = kp("erin", &mut r);
        let foreign = welcome_for(&mut other, &erin.key_package, &mut r);
        assert_eq!(
            Meeting::join_from_store(MeetingConfig::default(), &foreign, &mut store).map(|_| ()),
            Err(PeerMisbehaved::NotForUs.into())
        );
        // A Welcome for us whose GroupInfo the server altered: the join fails, the
        // KeyPackage stays.
        let welcome = welcome_for(&mut alice, &dave_kp, &mut r);
        let mut bad = welcome.clone();
        if let MlsMessageBody::Welcome(w) = &mut bad.body {
            let last = w.encrypted_group_info.len() - 1;
            w.encrypted_group_info[last] ^= 1;
        }
        assert_eq!(
            Meeting::join_from_store(MeetingConfig::default(), &bad, &mut store).map(|_| ()),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(store.len(), 2);
        let dave =
            Meeting::join_from_store(MeetingConfig::default(), &welcome, &mut store).unwrap();
        assert_eq!(dave.epoch(), alice.epoch());
        assert_eq!(store.len(), 1);
        assert_eq!(store.key_package(&reference), None);
    }

    /// A last-resort KeyPackage (RFC 9420 §16.8) serves any number of joins.
    #[test]
    fn a_last_resort_key_package_is_never_consumed() {
        let mut r = rng(93);
        let mut store = KeyPackageStore::new();
        let frank = kp("frank", &mut r);
        let frank_kp = frank.key_package.clone();
        store.add(frank, true).unwrap();
        for seed in [94, 95] {
            let (mut alice, ..) = three(seed);
            let welcome = welcome_for(&mut alice, &frank_kp, &mut r);
            let m =
                Meeting::join_from_store(MeetingConfig::default(), &welcome, &mut store).unwrap();
            assert_eq!(m.security_code().unwrap(), alice.security_code().unwrap());
            assert_eq!(store.len(), 1);
        }
    }
}
