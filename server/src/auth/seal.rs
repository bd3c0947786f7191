//! The stored id_token, sealed.
//!
//! A session keeps the id_token of its login, to send it back as `id_token_hint` when the
//! person logs out at the provider (ID-porten requires it). ID-porten's and MitID's id_tokens
//! carry the national identity number, so the token is kept sealed: AES-256-GCM under a
//! server key, with a random nonce per token, as `sealed.v1.<base64url(nonce ‖ ciphertext)>`.
//! A database copy, a backup or a stray query then shows no national id and no usable token.
//!
//! The key is 32 random bytes in a file (`[session] id_token_key_file`, by default
//! `data_dir/id-token.key`), made at the first start with mode 0600. Every instance that
//! shares a database must read the same file: a token sealed under another key cannot be
//! opened, and its logout then goes to the provider without the hint.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

/// What a sealed token starts with (the format's version).
const PREFIX: &str = "sealed.v1.";
/// The key's length in bytes (AES-256).
const KEY_LEN: usize = 32;

/// Why the sealing key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SealKeyError {
    #[error("the id_token key file {0} could not be read or made: {1}")]
    File(String, std::io::Error),
    #[error("the id_token key file {0} does not hold a key of {KEY_LEN} bytes")]
    Length(String),
    #[error("no random bytes for the id_token key")]
    Random,
}

/// Seals and opens stored id_tokens (see the module's documentation).
pub struct IdTokenSeal {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl IdTokenSeal {
    /// The key in the file at `path`, made first if there is no file.
    pub fn load_or_create(path: &Path) -> Result<IdTokenSeal, SealKeyError> {
        let rng = SystemRandom::new();
        let shown = || path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rng.fill(&mut key).map_err(|_| SealKeyError::Random)?;
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder)
                        .map_err(|error| SealKeyError::File(shown(), error))?;
                }
                crate::private_file::write_private(path, &key)
                    .map_err(|error| SealKeyError::File(shown(), error))?;
                key.to_vec()
            }
            Err(error) => return Err(SealKeyError::File(shown(), error)),
        };
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealKeyError::Length(shown()))?;
        Ok(IdTokenSeal {
            key: LessSafeKey::new(key),
            rng,
        })
    }

    /// `token`, sealed. `None` only if the system has no random bytes for the nonce.
    pub fn seal(&self, token: &SecretString) -> Option<SecretString> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut sealed = token.expose_secret().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .ok()?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Some(SecretString::from(format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    /// The token `stored` holds: opened if it is sealed, as it is if it was stored before
    /// tokens were sealed. `None` if it is sealed but cannot be opened (another key, or
    /// changed).
    pub fn open(&self, stored: &SecretString) -> Option<SecretString> {
        let Some(sealed) = stored.expose_secret().strip_prefix(PREFIX) else {
            return Some(stored.clone());
        };
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut opened = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut opened)
            .ok()?;
        String::from_utf8(plain.to_vec())
            .ok()
            .map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJwaWQiOiIxNzg0ODUxMjM5NyJ9.c2lnbmF0dXJl";

    fn seal_in(dir: &Path) -> IdTokenSeal {
        // In a folder not made yet, as a new data directory is.
        IdTokenSeal::load_or_create(&dir.join("data/id-token.key")).expect("key")
    }

    #[test]
    fn a_sealed_token_shows_nothing_of_it_and_opens_again() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let seal = seal_in(dir.path());
        let token = SecretString::from(TOKEN);
        let sealed = seal.seal(&token).expect("sealed");
        let text = sealed.expose_secret();
        assert!(text.starts_with(PREFIX), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
        assert_eq!(seal.open(&sealed).expect("opened").expose_secret(), TOKEN);
        let again = seal.seal(&token).expect("sealed");
        assert_ne!(again.expose_secret(), text, "a new nonce for every token");
    }

    #[test]
    fn the_key_is_made_once_private_and_read_again() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let sealed = seal_in(dir.path())
            .seal(&SecretString::from(TOKEN))
            .expect("sealed");
        let path = dir.path().join("data/id-token.key");
        assert_eq!(std::fs::read(&path).expect("key file").len(), KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // After a restart (the key read from its file) the token still opens.
        let opened = seal_in(dir.path()).open(&sealed).expect("opened");
        assert_eq!(opened.expose_secret(), TOKEN);
    }

    #[test]
    fn a_changed_token_or_another_key_opens_nothing() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let seal = seal_in(dir.path());
        let sealed = seal.seal(&SecretString::from(TOKEN)).expect("sealed");
        let text = sealed.expose_secret();
        // One character of the ciphertext changed.
        let last = text.chars().last().expect("a character");
        let changed = format!(
            "{}{}",
            &text[..text.len() - 1],
            if last == 'A' { 'B' } else { 'A' }
        );
        assert!(seal.open(&SecretString::from(changed)).is_none());
        assert!(seal
            .open(&SecretString::from(format!("{PREFIX}not base64!")))
            .is_none());
        assert!(seal.open(&SecretString::from(PREFIX)).is_none());
        let other = tempfile::tempdir().expect("temporary folder");
        assert!(seal_in(other.path()).open(&sealed).is_none());
    }

    #[test]
    fn a_token_stored_before_sealing_is_taken_as_it_is() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let opened = seal_in(dir.path())
            .open(&SecretString::from(TOKEN))
            .expect("as it is");
        assert_eq!(opened.expose_secret(), TOKEN);
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("short.key");
        std::fs::write(&path, [1u8; 16]).expect("file");
        assert!(matches!(
            IdTokenSeal::load_or_create(&path),
            Err(SealKeyError::Length(_))
        ));
    }
}
