//! The embedded delivery service: in-process, shared by handles, no setup.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use meetkey::mls::{KeyPackage, MlsMessage};

use crate::{
    encode, group_info_of, handshake_of, welcome_bytes, DeliveryService, DsError, Entry, Published,
};

#[derive(Debug, Default)]
struct State {
    /// Each meeting's log.
    logs: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    /// (meeting, epoch) pairs that have their commit.
    committed: HashMap<Vec<u8>, Vec<u64>>,
    /// KeyPackages by owner; the last-resort one apart.
    key_packages: HashMap<Vec<u8>, VecDeque<Vec<u8>>>,
    last_resort: HashMap<Vec<u8>, Vec<u8>>,
    group_infos: HashMap<Vec<u8>, Vec<u8>>,
    welcomes: HashMap<Vec<u8>, VecDeque<Vec<u8>>>,
}

/// An in-process delivery service. Clones are handles to the same service.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedDs {
    state: Arc<Mutex<State>>,
}

impl EmbeddedDs {
    /// A new, empty service.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, DsError> {
        self.state
            .lock()
            .map_err(|_| DsError::Unavailable("poisoned".into()))
    }

    /// Appends raw bytes to a meeting's log, as a hostile service would (tests).
    ///
    /// # Errors
    /// [`DsError::Unavailable`] when the state is poisoned.
    pub fn inject(&self, meeting: &[u8], bytes: Vec<u8>) -> Result<u64, DsError> {
        let mut st = self.state()?;
        let log = st.logs.entry(meeting.to_vec()).or_default();
        log.push(bytes);
        Ok(log.len() as u64)
    }
}

impl DeliveryService for EmbeddedDs {
    fn publish(&mut self, message: &MlsMessage) -> Result<Published, DsError> {
        let (meeting, epoch, commit) = handshake_of(message)?;
        let bytes = encode(message)?;
        let mut st = self.state()?;
        if commit {
            let epochs = st.committed.entry(meeting.clone()).or_default();
            if epochs.contains(&epoch) {
                return Ok(Published::Conflict);
            }
            epochs.push(epoch);
        }
        let log = st.logs.entry(meeting).or_default();
        log.push(bytes);
        Ok(Published::Appended {
            seq: log.len() as u64,
        })
    }

    fn fetch(&mut self, meeting: &[u8], after: u64, max: usize) -> Result<Vec<Entry>, DsError> {
        let st = self.state()?;
        let Some(log) = st.logs.get(meeting) else {
            return Ok(Vec::new());
        };
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(log
            .iter()
            .enumerate()
            .skip(start)
            .take(max)
            .map(|(i, m)| Entry {
                seq: i as u64 + 1,
                message: m.clone(),
            })
            .collect())
    }

    fn publish_key_package(
        &mut self,
        owner: &[u8],
        key_package: &KeyPackage,
        last_resort: bool,
    ) -> Result<(), DsError> {
        let bytes = encode(&MlsMessage::from(key_package.clone()))?;
        let mut st = self.state()?;
        if last_resort {
            st.last_resort.insert(owner.to_vec(), bytes);
        } else {
            st.key_packages
                .entry(owner.to_vec())
                .or_default()
                .push_back(bytes);
        }
        Ok(())
    }

    fn claim_key_package(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        let mut st = self.state()?;
        if let Some(kp) = st.key_packages.get_mut(owner).and_then(VecDeque::pop_front) {
            return Ok(Some(kp));
        }
        Ok(st.last_resort.get(owner).cloned())
    }

    fn put_group_info(&mut self, group_info: &MlsMessage) -> Result<(), DsError> {
        let (meeting, bytes) = group_info_of(group_info)?;
        self.state()?.group_infos.insert(meeting, bytes);
        Ok(())
    }

    fn group_info(&mut self, meeting: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        Ok(self.state()?.group_infos.get(meeting).cloned())
    }

    fn send_welcome(&mut self, owner: &[u8], welcome: &MlsMessage) -> Result<(), DsError> {
        let bytes = welcome_bytes(welcome)?;
        self.state()?
            .welcomes
            .entry(owner.to_vec())
            .or_default()
            .push_back(bytes);
        Ok(())
    }

    fn take_welcome(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        Ok(self
            .state()?
            .welcomes
            .get_mut(owner)
            .and_then(VecDeque::pop_front))
    }
}
