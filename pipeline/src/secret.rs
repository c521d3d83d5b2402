//! Secrets handed to a browser or a tool (session cookies, personal tokens, the set-up
//! link): 32 random bytes from the OS, written in hex; the warehouse keeps only their
//! SHA-256 (`warehouse::accounts`).

use sha2::{Digest, Sha256};

/// Prefix of personal tokens, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "dm360_";

/// The OS has no randomness to give (it never happens on a working Linux).
#[derive(Debug, thiserror::Error)]
#[error("no randomness from the operating system: {0}")]
pub struct NoRandomness(String);

/// A new random secret: 64 hex characters.
pub fn new_secret() -> Result<String, NoRandomness> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// A new personal token: [`TOKEN_PREFIX`] and a secret.
pub fn new_token() -> Result<String, NoRandomness> {
    Ok(format!("{TOKEN_PREFIX}{}", new_secret()?))
}

/// What the warehouse keeps of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of two secrets.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_stable() {
        let (a, b) = (new_secret().expect("random"), new_secret().expect("random"));
        assert!(new_token().expect("random").starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(digest("x"), digest("x"));
        assert_ne!(digest(&a), a);
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
    }
}
