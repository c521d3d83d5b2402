//! The signed generic webhook, as the Standard Webhooks convention
//! (<https://www.standardwebhooks.com/>) says: the body is signed with HMAC-SHA256 over
//! `"{webhook-id}.{webhook-timestamp}.{body}"` with the secret's bytes (the base64 after
//! `whsec_`), and sent with the headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 signature>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret's key bytes: `whsec_<base64>` of 24 to 64 bytes; `None` otherwise.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.trim().strip_prefix("whsec_")?;
    let key = STANDARD.decode(encoded).ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

/// A new random secret, `whsec_` and 32 bytes in base64.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header's value: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_checked() {
        assert!(
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none(),
            "no prefix"
        );
        assert!(secret_key("whsec_not base64!").is_none());
        assert!(secret_key("whsec_c2hvcnQ=").is_none(), "too short");
        let s = new_secret().expect("random");
        assert_eq!(secret_key(&s).map(|k| k.len()), Some(32));
    }
}
