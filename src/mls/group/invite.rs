//! What lets others in: the Welcome of the members a commit adds (RFC 9420 §12.4.3.1) and
//! the signed GroupInfo for external joiners (§12.4.3.2).

use crate::crypto::{Mac, Rng};
use crate::error::Result;
use crate::mls::key_schedule::{JoinerSecret, WelcomeSecret};
use crate::mls::tree::math::LeafIndex;
use crate::mls::welcome;
use crate::mls::wire::{
    EncryptedGroupSecrets, Extension, ExtensionType, GroupContext, GroupInfo, GroupSecrets,
    KeyPackage, MlsMessage, MlsMessageBody, PathSecret as WirePathSecret, PreSharedKeyId,
    ProtocolVersion, Welcome,
};

use super::epoch::EpochKeys;
use super::Group;

pub(super) struct Joiners<'a> {
    pub(super) added: &'a [(LeafIndex, KeyPackage)],
    pub(super) path_secrets: Vec<Option<WirePathSecret>>,
    pub(super) joiner_secret: &'a JoinerSecret,
    pub(super) psks: &'a [PreSharedKeyId],
}

impl Group {
    /// The Welcome of the added members (§12.4.3.1): the GroupInfo encrypted under the
    /// `welcome_secret`, and each member's GroupSecrets sealed to its init key.
    pub(super) fn welcome(
        &self,
        welcome_secret: &WelcomeSecret,
        group_info: &GroupInfo,
        joiners: Joiners<'_>,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        let suite = self.suite;
        let encrypted_group_info = welcome::encrypt_group_info(&suite, welcome_secret, group_info)?;
        // One HPKE seal per new member, spread over the cores (each with its own RNG stream
        // forked in order from the caller's).
        let tasks: Vec<_> = joiners
            .added
            .iter()
            .zip(joiners.path_secrets)
            .map(|((_, kp), path_secret)| (kp, path_secret, crate::crypto::ForkSeed::draw(rng)))
            .collect();
        // EncryptWithLabel(init_key, "Welcome", encrypted_group_info, ·) for each: the HPKE
        // info (the encrypted GroupInfo, O(n) bytes) is hashed once, not per member.
        let sealer = &welcome::group_secrets_sealer(&suite, &encrypted_group_info)?;
        let secrets = crate::parallel::map(
            self.config.max_threads,
            &tasks,
            |(kp, path_secret, seed)| -> Result<EncryptedGroupSecrets> {
                let group_secrets = GroupSecrets {
                    joiner_secret: joiners.joiner_secret.0.duplicate(),
                    path_secret: path_secret.as_ref().map(|p| WirePathSecret {
                        path_secret: p.path_secret.duplicate(),
                    }),
                    psks: joiners.psks.to_vec(),
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
        Ok(MlsMessage {
            version: ProtocolVersion::MLS10,
            body: MlsMessageBody::Welcome(Welcome {
                cipher_suite: suite.id(),
                secrets,
                encrypted_group_info,
            }),
        })
    }

    /// The signed GroupInfo of the current epoch (RFC 9420 §12.4.3), with `external_pub` so
    /// that new members can join by external commit, and the ratchet tree if `with_tree`.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`](crate::error::ApiMisuse::NotAMember) after being removed.
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
    pub(super) fn sign_group_info(
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
}
