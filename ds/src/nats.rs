//! The delivery service on NATS JetStream (server 2.9 and later).
//!
//! ```text
//!  stream MEETKEY, subjects mk.>, file storage, R replicas
//!    mk.h.<meeting>.<epoch>.c   the commit of an epoch: published with
//!                               Nats-Expected-Last-Subject-Sequence: 0, so only the first is
//!                               stored; a later one gets "wrong last sequence" (a conflict)
//!    mk.h.<meeting>.<epoch>.p   proposals
//!    mk.w.<owner>               Welcomes waiting for a client (deleted when taken)
//!  KV mk_kp   <owner>.<id>      KeyPackages; claimed by a revision-checked delete, so each is
//!             <owner>.last      handed out once (the last-resort one is never deleted)
//!  KV mk_gi   <meeting>         the latest GroupInfo
//! ```
//!
//! A meeting's log is the stream filtered by `mk.h.<meeting>.>`, in stream order; a member
//! resumes after the last stream sequence it processed. Every read goes to the stream's
//! leader (no direct gets from replicas, which may lag): a client reads what it wrote. Meeting ids and owners appear in
//! hex. Every call runs the async client on a current-thread runtime owned by the handle, so
//! the backend starts no thread.

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, kv, stream};
use bytes::Bytes;
use futures_util::StreamExt;
use meetkey::mls::{KeyPackage, MlsMessage};

use crate::{
    encode, group_info_of, handshake_of, hex, welcome_bytes, DeliveryService, DsError, Entry,
    Published,
};

/// The stream of every meeting's handshakes and Welcomes.
pub const STREAM: &str = "MEETKEY";
/// The KeyPackage bucket.
pub const KEY_PACKAGES: &str = "mk_kp";
/// The GroupInfo bucket.
pub const GROUP_INFOS: &str = "mk_gi";

/// How the stream and buckets are created (when they do not exist yet).
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// Replicas of the stream and buckets (1 for a single server, 3 for a cluster).
    pub replicas: usize,
    /// How long a request may take.
    pub timeout: Duration,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            replicas: 1,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A client of the NATS JetStream delivery service.
pub struct NatsDs {
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
    stream: stream::Stream,
    key_packages: kv::Store,
    group_infos: kv::Store,
    timeout: Duration,
}

impl core::fmt::Debug for NatsDs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NatsDs").finish_non_exhaustive()
    }
}

fn unavailable(e: impl core::fmt::Display) -> DsError {
    DsError::Unavailable(e.to_string())
}

impl NatsDs {
    /// Connects to the server(s) at `url` (e.g. `nats://127.0.0.1:4222`, or a comma-separated
    /// list of a cluster's servers) and creates the stream and buckets if needed.
    ///
    /// # Errors
    /// [`DsError::Unavailable`] when no server answers or JetStream is off.
    pub fn connect(url: &str, config: &NatsConfig) -> Result<Self, DsError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(unavailable)?;
        let timeout = config.timeout;
        let (js, stream, key_packages, group_infos) = rt.block_on(async {
            let servers = url
                .split(',')
                .map(|u| u.trim().parse::<async_nats::ServerAddr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(timeout)
                .request_timeout(Some(timeout))
                .connect(servers.as_slice())
                .await
                .map_err(unavailable)?;
            let js = jetstream::new(client);
            let stream = js
                .get_or_create_stream(stream::Config {
                    name: STREAM.into(),
                    subjects: vec!["mk.>".into()],
                    storage: stream::StorageType::File,
                    num_replicas: config.replicas,
                    ..Default::default()
                })
                .await
                .map_err(unavailable)?;
            let key_packages = bucket(&js, KEY_PACKAGES, config.replicas).await?;
            let group_infos = bucket(&js, GROUP_INFOS, config.replicas).await?;
            Ok::<_, DsError>((js, stream, key_packages, group_infos))
        })?;
        Ok(Self {
            rt,
            js,
            stream,
            key_packages,
            group_infos,
            timeout,
        })
    }

    fn run<T>(
        &self,
        f: impl core::future::Future<Output = Result<T, DsError>>,
    ) -> Result<T, DsError> {
        let timeout = self.timeout;
        self.rt.block_on(async move {
            tokio::time::timeout(timeout, f)
                .await
                .map_err(|_| DsError::Unavailable("timed out".into()))?
        })
    }
}

/// The KV bucket `name`, created if needed. Its backing stream is made here with the layout
/// of a KV bucket (one value per key, rollups; reads from the leader) rather than by the client's
/// bucket creation, whose request a 2.9 server answers in a form this client cannot read.
async fn bucket(
    js: &jetstream::Context,
    name: &str,
    replicas: usize,
) -> Result<kv::Store, DsError> {
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        discard: stream::DiscardPolicy::New,
        allow_rollup: true,
        deny_delete: true,
        storage: stream::StorageType::File,
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .map_err(unavailable)?;
    js.get_key_value(name).await.map_err(unavailable)
}

/// A KeyPackage's id in the bucket: FNV-1a of its encoding (unique enough to name it; the
/// bucket refuses a duplicate).
fn key_package_id(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl DeliveryService for NatsDs {
    fn publish(&mut self, message: &MlsMessage) -> Result<Published, DsError> {
        let (meeting, epoch, commit) = handshake_of(message)?;
        let payload = Bytes::from(encode(message)?);
        let subject = format!(
            "mk.h.{}.{epoch}.{}",
            hex(&meeting),
            if commit { 'c' } else { 'p' }
        );
        let js = self.js.clone();
        self.run(async move {
            let mut publish = jetstream::message::PublishMessage::build().payload(payload);
            if commit {
                publish = publish.expected_last_subject_sequence(0);
            }
            let ack = js.send_publish(subject, publish).await;
            let ack = match ack {
                Ok(future) => future.await,
                Err(e) => Err(e),
            };
            match ack {
                Ok(ack) => Ok(Published::Appended { seq: ack.sequence }),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    Ok(Published::Conflict)
                }
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn fetch(&mut self, meeting: &[u8], after: u64, max: usize) -> Result<Vec<Entry>, DsError> {
        let filter = format!("mk.h.{}.>", hex(meeting));
        let stream = self.stream.clone();
        self.run(async move {
            let mut out = Vec::new();
            let mut next = after.saturating_add(1);
            while out.len() < max {
                match stream
                    .get_first_raw_message_by_subject(filter.clone(), next)
                    .await
                {
                    Ok(m) => {
                        next = m.sequence.saturating_add(1);
                        out.push(Entry {
                            seq: m.sequence,
                            message: m.payload.to_vec(),
                        });
                    }
                    Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => break,
                    Err(e) => return Err(unavailable(e)),
                }
            }
            Ok(out)
        })
    }

    fn publish_key_package(
        &mut self,
        owner: &[u8],
        key_package: &KeyPackage,
        last_resort: bool,
    ) -> Result<(), DsError> {
        let bytes = encode(&MlsMessage::from(key_package.clone()))?;
        let key = if last_resort {
            format!("{}.last", hex(owner))
        } else {
            format!("{}.{}", hex(owner), key_package_id(&bytes))
        };
        let kv = self.key_packages.clone();
        self.run(async move {
            kv.put(key, Bytes::from(bytes))
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }

    fn claim_key_package(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        let prefix = format!("{}.", hex(owner));
        let last = format!("{}.last", hex(owner));
        let kv = self.key_packages.clone();
        self.run(async move {
            let mut keys = kv.keys().await.map_err(unavailable)?;
            let mut mine = Vec::new();
            while let Some(k) = keys.next().await {
                let k = k.map_err(unavailable)?;
                if k.starts_with(&prefix) && k != last {
                    mine.push(k);
                }
            }
            mine.sort();
            for key in mine {
                let Some(entry) = kv.entry(key.clone()).await.map_err(unavailable)? else {
                    continue;
                };
                if entry.operation != kv::Operation::Put {
                    continue;
                }
                // Only the claimer whose delete names the revision it read gets it.
                if kv
                    .delete_expect_revision(key, Some(entry.revision))
                    .await
                    .is_ok()
                {
                    return Ok(Some(entry.value.to_vec()));
                }
            }
            Ok(kv.get(last).await.map_err(unavailable)?.map(|v| v.to_vec()))
        })
    }

    fn put_group_info(&mut self, group_info: &MlsMessage) -> Result<(), DsError> {
        let (meeting, bytes) = group_info_of(group_info)?;
        let key = hex(&meeting);
        let bytes = Bytes::from(bytes);
        let kv = self.group_infos.clone();
        self.run(async move { kv.put(key, bytes).await.map(|_| ()).map_err(unavailable) })
    }

    fn group_info(&mut self, meeting: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        let key = hex(meeting);
        let kv = self.group_infos.clone();
        self.run(async move { Ok(kv.get(key).await.map_err(unavailable)?.map(|v| v.to_vec())) })
    }

    fn send_welcome(&mut self, owner: &[u8], welcome: &MlsMessage) -> Result<(), DsError> {
        let subject = format!("mk.w.{}", hex(owner));
        let payload = Bytes::from(welcome_bytes(welcome)?);
        let js = self.js.clone();
        self.run(async move {
            js.publish(subject, payload)
                .await
                .map_err(unavailable)?
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }

    fn take_welcome(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        let subject = format!("mk.w.{}", hex(owner));
        let stream = self.stream.clone();
        self.run(async move {
            let m = match stream.get_first_raw_message_by_subject(subject, 1).await {
                Ok(m) => m,
                Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => {
                    return Ok(None)
                }
                Err(e) => return Err(unavailable(e)),
            };
            stream
                .delete_message(m.sequence)
                .await
                .map_err(unavailable)?;
            Ok(Some(m.payload.to_vec()))
        })
    }
}
