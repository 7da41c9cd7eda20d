//! Argon2id password hashes as PHC strings.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// The minimum password length.
pub const MIN_LENGTH: usize = 8;

/// The maximum password length (longer input only costs hashing time).
pub const MAX_LENGTH: usize = 1024;

/// A few of the most common passwords, refused outright.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyui",
    "qwertz123",
    "passwort",
    "passwort1",
    "iloveyou",
    "11111111",
    "00000000",
    "abc12345",
    "letmein1",
    "welcome1",
    "sunshine",
    "football",
    "monkey12",
    "hallo123",
    "changeme",
    "qwerty123",
    "admin123",
    "administrator",
    "geheim12",
    "test1234",
    "master12",
    "dragon12",
];

/// The hasher: Argon2id with the OWASP minimum (19 MiB, t=2, p=1), the crate's defaults.
pub fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Checks a new password against the rules (length, not a common password).
pub fn check_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_LENGTH {
        return Err(Error::invalid(
            "password",
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    if password.chars().count() > MAX_LENGTH {
        return Err(Error::invalid(
            "password",
            format!("must be at most {MAX_LENGTH} characters"),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err(Error::invalid("password", "is too common; choose another"));
    }
    Ok(())
}

/// Hashes a password (after checking its strength) into a PHC string. CPU-heavy: call it
/// off the async runtime's worker threads (`spawn_blocking`).
pub fn hash(password: &str) -> Result<String> {
    check_strength(password)?;
    hash_unchecked(password)
}

/// How many passwords are hashed or verified at once, process-wide. Each takes 19 MiB and
/// about a core for tens of milliseconds; a burst of logins waits instead of exhausting the
/// machine.
pub const MAX_CONCURRENT_HASHES: usize = 2;

static HASH_SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);

/// A hash of a password nobody knows, made with the current parameters: verified against
/// when a login names no user (or one without a password), so that such a login costs as
/// much as a wrong password.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$SeNnitcvLhy3zqV5pw0K0g$ASWvofWPRxRS78SUTEAIvxfkYdyMyDokIsrJY2cWMzE";

/// Runs CPU-heavy hashing on the blocking thread pool, at most
/// [`MAX_CONCURRENT_HASHES`] at a time.
async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _slot = HASH_SLOTS
        .acquire()
        .await
        .map_err(|_| Error::Io("password hashing is unavailable".into()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::Io("password hashing failed".into()))
}

/// [`hash`] off the async runtime's worker threads, bounded by
/// [`MAX_CONCURRENT_HASHES`]. The strength check runs first, without waiting.
pub async fn hash_async(password: String) -> Result<String> {
    check_strength(&password)?;
    off_runtime(move || hash_unchecked(&password)).await?
}

/// [`verify`] off the async runtime's worker threads, bounded by
/// [`MAX_CONCURRENT_HASHES`].
pub async fn verify_async(password: String, phc: String) -> Result<bool> {
    off_runtime(move || verify(&password, &phc)).await
}

/// Hashes a password that was already accepted once (a rehash on login with stronger
/// parameters), without the strength check, off the runtime like [`hash_async`].
pub(crate) async fn rehash_async(password: String) -> Result<String> {
    off_runtime(move || hash_unchecked(&password)).await?
}

fn hash_unchecked(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Io(format!("hashing the password failed: {e}")))
}

/// Whether `password` matches the PHC string `phc`.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Whether a stored hash was made with weaker parameters than [`hasher`] uses now.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return true;
    };
    let current = Params::default();
    let Ok(params) = Params::try_from(&h) else {
        return true;
    };
    h.algorithm.as_str() != "argon2id"
        || params.m_cost() < current.m_cost()
        || params.t_cost() < current.t_cost()
        || params.p_cost() < current.p_cost()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn the_dummy_hash_uses_current_parameters_and_matches_nothing_common() {
        assert!(!needs_rehash(DUMMY_HASH));
        assert!(!verify("", DUMMY_HASH));
        assert!(!verify("password", DUMMY_HASH));
    }

    #[tokio::test]
    async fn async_hashing_checks_strength_and_round_trips() {
        assert!(matches!(
            hash_async("short".into()).await,
            Err(Error::Validation(_))
        ));
        let h = hash_async("correct horse battery".into()).await.unwrap();
        assert!(
            verify_async("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify_async("wrong".into(), h).await.unwrap());
    }

    #[test]
    fn refuses_weak_passwords() {
        assert!(matches!(hash("short"), Err(Error::Validation(_))));
        assert!(matches!(hash("Passwort1"), Err(Error::Validation(_))));
    }

    #[test]
    fn weaker_params_need_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h = weak
            .hash_password(b"some password", &salt)
            .unwrap()
            .to_string();
        assert!(needs_rehash(&h));
        assert!(verify("some password", &h), "old hashes still verify");
    }
}
