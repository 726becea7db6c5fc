//! Creating commits (RFC 9420 §12.4.1), the Welcome for members they add (§12.4.3.1) and
//! the GroupInfo that lets others join by external commit (§12.4.3.2).

use crate::codec::Encode;
use crate::crypto::{Mac, Rng};
use crate::error::{ApiMisuse, PeerMisbehaved, Result};
use crate::mls::framing;
use crate::mls::key_schedule::CommitSecret;
use crate::mls::transcript;
use crate::mls::tree::{treekem, LeafTemplate, TreeDiff};
use crate::mls::welcome;
use crate::mls::wire::{
    Commit, EncryptedGroupSecrets, Extension, ExtensionType, FramedContent, FramedContentBody,
    GroupContext, GroupInfo, GroupSecrets, LeafNodeSource, MlsMessage, MlsMessageBody,
    PathSecret as WirePathSecret, Proposal, ProtocolVersion, Sender, Welcome, WireFormat,
};

use super::apply;
use super::epoch::{EpochKeys, NextEpoch};
use super::process::StagedCommit;
use super::Group;

/// How to build a commit.
#[derive(Debug, Clone)]
pub struct CommitOptions {
    /// The current time (seconds since the Unix epoch): RFC 9420 §7.3 requires a sender to
    /// check that every KeyPackage it adds is within its lifetime.
    pub now: u64,
    /// Include an UpdatePath even when the proposals do not require one (a full commit
    /// refreshes our keys: post-compromise security). Default: true.
    pub force_path: bool,
    /// Include the admitted proposals stored this epoch by reference (see
    /// [`Group::admit_proposal`]); those that are no longer valid together are left out.
    /// Default: true.
    pub include_received: bool,
    /// `authenticated_data` of the commit message.
    pub authenticated_data: Vec<u8>,
}

impl CommitOptions {
    /// The default options at time `now`: a full commit that includes admitted proposals.
    #[must_use]
    pub const fn at(now: u64) -> Self {
        Self {
            now,
            force_path: true,
            include_received: true,
            authenticated_data: Vec::new(),
        }
    }
}

/// What a commit produces: the message for the delivery service and a Welcome for added
/// members. (The new epoch's GroupInfo comes from [`Group::group_info`] after the merge.)
#[derive(Debug)]
#[non_exhaustive]
pub struct CommitOutput {
    /// The commit, to send to the group.
    pub commit: MlsMessage,
    /// The Welcome, if the commit adds members.
    pub welcome: Option<MlsMessage>,
}

impl Group {
    /// Creates a commit of `proposals` (by value) and, if enabled, of the proposals received
    /// this epoch (by reference). The group does not change until the delivery service
    /// confirms the commit and [`Group::merge_pending_commit`] is called.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`] after being removed; the [`PeerMisbehaved`] rule an invalid
    /// proposal list breaks.
    ///
    /// [`PeerMisbehaved`]: crate::error::PeerMisbehaved
    pub fn commit(
        &mut self,
        proposals: Vec<Proposal>,
        options: &CommitOptions,
        rng: &mut impl Rng,
    ) -> Result<CommitOutput> {
        self.check_usable()?;
        let suite = self.suite;
        let me = Sender::Member(self.own_leaf.0);
        let next_epoch = self.next_epoch()?;
        let (list, refs) = self.commit_list(proposals, options.include_received)?;
        if list.len() > self.config.limits.max_commit_proposals {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }

        let mut diff = TreeDiff::new(&self.tree);
        let applied = apply::apply_proposals(
            &mut diff,
            &self.context,
            Some(&me),
            &list,
            &self.params(),
            &self.config,
        )?;
        // §7.3: a sender checks the lifetime of every KeyPackage it adds against the current
        // time (receivers need not: it may have expired in transit).
        for (_, kp) in &applied.added {
            if let LeafNodeSource::KeyPackage(l) = &kp.leaf_node.leaf_node_source {
                if options.now < l.not_before || options.now > l.not_after {
                    return Err(ApiMisuse::KeyPackageExpired.into());
                }
            }
        }
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        let added: Vec<_> = applied.added.iter().map(|(l, _)| *l).collect();

        let with_path = applied.path_required || options.force_path;
        let (path, prepared) = if with_path {
            let own = self
                .tree
                .leaf(self.own_leaf)
                .ok_or(ApiMisuse::NotAMember)?
                .clone();
            let template = LeafTemplate {
                leaf: &own,
                signer: &self.signer,
                group_id: &self.context.group_id,
            };
            let prepared = treekem::prepare_path(&mut diff, self.own_leaf, template, rng)?;
            let provisional = GroupContext {
                epoch: next_epoch,
                tree_hash: diff.root_hash()?.as_bytes().to_vec(),
                extensions: extensions.clone(),
                ..self.context.clone()
            }
            .to_bytes()?;
            let path =
                prepared.encrypt(&diff, &provisional, &added, self.config.max_threads, rng)?;
            (Some(path), Some(prepared))
        } else {
            (None, None)
        };
        // The receivers' checks, on our own commit: the path's leaf (§12.4.2) and the
        // application's rules. What they would refuse is never sent.
        if let Some(path) = &path {
            self.check_path_leaf(&diff, self.own_leaf, &me, path, &extensions, true)?;
        }
        self.config.rules.check_commit(&super::rules::CommitCheck {
            context: &self.context,
            tree: &self.tree,
            sender: &me,
            committer: self.own_leaf,
            path_leaf: path.as_ref().map(|p| &p.leaf_node),
            proposals: &list,
            new_extensions: &extensions,
            removed: &applied.removed,
            rejoin_of: None,
        })?;

        let wire_format = self.handshake_wire_format();
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: me,
            authenticated_data: options.authenticated_data.clone(),
            body: FramedContentBody::Commit(Box::new(Commit {
                proposals: refs,
                path,
            })),
        };
        let mut auth =
            framing::sign_content(&suite, &self.signer, wire_format, content, &self.context)?;

        let confirmed_input = auth.confirmed_transcript_hash_input()?.to_bytes()?;
        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &self.interim_transcript_hash,
            &confirmed_input,
        );
        let context = GroupContext {
            epoch: next_epoch,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            confirmed_transcript_hash: confirmed.as_bytes().to_vec(),
            extensions,
            ..self.context.clone()
        };
        let ctx = context.to_bytes()?;
        let psk_secret = self.psk_secret(&applied.psks)?;
        let (commit_secret, new_private_keys, prepared) = match prepared {
            Some(p) => {
                let path_secrets = added
                    .iter()
                    .map(|l| {
                        let lca = diff
                            .size()
                            .common_ancestor(l.node(), self.own_leaf.node())?;
                        Ok(p.path_secret(lca).map(|s| WirePathSecret {
                            path_secret: s.0.duplicate(),
                        }))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let (commit_secret, keys) = p.into_keys();
                (commit_secret, keys, path_secrets)
            }
            None => (
                CommitSecret::zero(&suite)?,
                Vec::new(),
                added.iter().map(|_| None).collect(),
            ),
        };
        let (next, joiner) = NextEpoch::from_init(
            &suite,
            &self.epoch.init_next,
            &commit_secret,
            &psk_secret,
            &ctx,
        )?;
        let welcome_secret = next.welcome_secret(&suite)?;
        let keys = next.keys(&suite, &ctx, diff.size(), self.config.ratchet)?;
        let tag: Mac = keys
            .confirmation_key
            .confirmation_tag(&suite, &context.confirmed_transcript_hash);
        auth.auth.confirmation_tag = Some(tag.as_bytes().to_vec());
        let interim =
            transcript::interim_transcript_hash(&suite, &context.confirmed_transcript_hash, &tag)?;

        let welcome = if applied.added.is_empty() {
            None
        } else {
            let tree = self.config.ratchet_tree_extension.then(|| diff.to_wire());
            let group_info = self.sign_group_info(&context, &tag, &keys, tree)?;
            let encrypted_group_info =
                welcome::encrypt_group_info(&suite, &welcome_secret, &group_info)?;
            // One HPKE seal per new member, spread over the cores (each with its own RNG
            // stream forked in order from the caller's).
            let tasks: Vec<_> = applied
                .added
                .iter()
                .zip(prepared)
                .map(|((_, kp), path_secret)| (kp, path_secret, crate::crypto::ForkSeed::draw(rng)))
                .collect();
            let joiner_secret = &joiner;
            let psks = &applied.psks;
            // EncryptWithLabel(init_key, "Welcome", encrypted_group_info, ·) for each: the
            // HPKE info (the encrypted GroupInfo, O(n) bytes) is hashed once, not per member.
            let sealer = &welcome::group_secrets_sealer(&suite, &encrypted_group_info)?;
            let secrets = crate::parallel::map(
                self.config.max_threads,
                &tasks,
                |(kp, path_secret, seed)| -> Result<EncryptedGroupSecrets> {
                    let group_secrets = GroupSecrets {
                        joiner_secret: joiner_secret.0.duplicate(),
                        path_secret: path_secret.as_ref().map(|p| WirePathSecret {
                            path_secret: p.path_secret.duplicate(),
                        }),
                        psks: psks.clone(),
                    };
                    let init_key = crate::crypto::HpkePublicKey::from_slice(&kp.init_key)?;
                    let encrypted = welcome::encrypt_group_secrets(
                        sealer,
                        &init_key,
                        &group_secrets,
                        &mut seed.start(),
                    )?;
                    Ok(EncryptedGroupSecrets {
                        new_member: welcome::key_package_ref(&suite, kp)?,
                        encrypted_group_secrets: encrypted,
                    })
                },
            )
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
            Some(MlsMessage {
                version: ProtocolVersion::MLS10,
                body: MlsMessageBody::Welcome(Welcome {
                    cipher_suite: suite.id(),
                    secrets,
                    encrypted_group_info,
                }),
            })
        };

        let changes = diff.into_changes();
        let commit = self.protect(auth, rng)?;
        let staged = StagedCommit {
            base_epoch: self.context.epoch,
            sender: me,
            committer: self.own_leaf,
            changes,
            context,
            keys: Some(keys),
            confirmation_tag: tag.as_bytes().to_vec(),
            interim_transcript_hash: interim.as_bytes().to_vec(),
            new_private_keys,
            added,
            removed: applied.removed,
            updated: applied.updated,
            reinit: applied.reinit,
            rejoin_of: None,
        };
        self.pending_commit = Some(staged);
        Ok(CommitOutput { commit, welcome })
    }

    /// The signed GroupInfo of the current epoch (RFC 9420 §12.4.3), with `external_pub` so
    /// that new members can join by external commit, and the ratchet tree if `with_tree`.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`] after being removed.
    pub fn group_info(&self, with_tree: bool) -> Result<MlsMessage> {
        self.check_usable()?;
        let tag = Mac::from_slice(&self.confirmation_tag)?;
        let tree = with_tree.then(|| self.tree.to_wire());
        let gi = self.sign_group_info(&self.context, &tag, &self.epoch, tree)?;
        Ok(MlsMessage {
            version: ProtocolVersion::MLS10,
            body: MlsMessageBody::GroupInfo(Box::new(gi)),
        })
    }

    /// Signs a GroupInfo for `context` with the epoch's `external_pub` and optionally a tree.
    fn sign_group_info(
        &self,
        context: &GroupContext,
        tag: &Mac,
        keys: &EpochKeys,
        tree: Option<crate::mls::wire::RatchetTree>,
    ) -> Result<GroupInfo> {
        let (_, external_pub) = keys.external.key_pair(&self.suite)?;
        let mut w = crate::codec::Writer::new();
        w.write_opaque(external_pub.as_bytes());
        let mut extensions = vec![Extension {
            extension_type: ExtensionType::EXTERNAL_PUB,
            extension_data: w.into_bytes()?,
        }];
        if let Some(tree) = tree {
            extensions.push(Extension {
                extension_type: ExtensionType::RATCHET_TREE,
                extension_data: tree.to_bytes()?,
            });
        }
        welcome::sign_group_info(
            &self.suite,
            &self.signer,
            GroupInfo {
                group_context: context.clone(),
                extensions,
                confirmation_tag: tag.as_bytes().to_vec(),
                signer: self.own_leaf.0,
                signature: Vec::new(),
            },
        )
    }

    /// The wire format handshake messages are sent in.
    pub(super) fn handshake_wire_format(&self) -> WireFormat {
        if self.config.encrypt_handshake {
            WireFormat::MLS_PRIVATE_MESSAGE
        } else {
            WireFormat::MLS_PUBLIC_MESSAGE
        }
    }

    /// Wraps signed content of ours as a PublicMessage or PrivateMessage of this epoch.
    pub(super) fn protect(
        &mut self,
        auth: crate::mls::wire::AuthenticatedContent,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        let body = if auth.wire_format == WireFormat::MLS_PRIVATE_MESSAGE {
            let padding = self.padding_for(&auth)?;
            MlsMessageBody::PrivateMessage(framing::protect_private(
                &self.suite,
                &auth,
                &mut self.epoch.secret_tree,
                &self.epoch.sender_data,
                self.own_leaf,
                padding,
                rng,
            )?)
        } else {
            MlsMessageBody::PublicMessage(Box::new(framing::protect_public(
                &self.suite,
                auth,
                Some(&self.epoch.membership_key),
                &self.context,
            )?))
        };
        Ok(MlsMessage {
            version: ProtocolVersion::MLS10,
            body,
        })
    }

    /// Padding that rounds the content up to a multiple of the configured block (§6.3.1).
    fn padding_for(&self, auth: &crate::mls::wire::AuthenticatedContent) -> Result<usize> {
        let block = self.config.padding_block;
        if block == 0 {
            return Ok(0);
        }
        let mut w = crate::codec::Writer::new();
        auth.content.body.encode_body(&mut w);
        auth.auth.encode(&mut w);
        let len = w.as_bytes().len();
        Ok((block - len % block) % block)
    }
}
