//! HS256 JSON Web Tokens (RFC 7519) as Mesos's executor secret generator makes and its JWT
//! authenticator checks them (libprocess `jwt.cpp`): header `{"alg":"HS256","typ":"JWT"}`,
//! the claims as string members of the payload, no expiry unless an `exp` is present.
//!
//! Written on `hmac` + `sha2` (RustCrypto; `sha2` is already in the tree): `jsonwebtoken`
//! would add `ring` (a C/assembly build) or, in 10.x, a whole RSA/ECDSA backend for one HS256
//! signature. The MAC is compared in constant time (`Mac::verify_slice`).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a token is not accepted; the text goes into the 401's `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("{0}")]
    Malformed(&'static str),
    /// An algorithm other than HS256 (`none` included).
    #[error("Token 'alg' value \"{0}\" does not match, expected \"HS256\"")]
    Algorithm(String),
    /// The signature does not verify with the agent's key.
    #[error("Token signature does not match")]
    Signature,
    /// `exp` is in the past.
    #[error("Token has expired")]
    Expired,
}

/// A signed token carrying `claims`.
pub fn create(claims: &[(&str, &str)], key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload: Map<String, Value> = claims
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(payload).to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &signing_input).finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of `token` once its HS256 signature verifies with `key` (non-string claims are
/// given as their JSON text, as libprocess does).
pub fn verify(
    token: &str,
    key: &[u8],
    now_secs: f64,
) -> Result<BTreeMap<String, String>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("Expected 3 parts in the token"));
    };
    match json_object(header, "Failed to parse token header")?.get("alg") {
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(Value::String(alg)) => return Err(JwtError::Algorithm(alg.clone())),
        _ => {
            return Err(JwtError::Malformed(
                "Failed to locate 'alg' in token JSON header",
            ))
        }
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed("Failed to base64url-decode token signature"))?;
    mac(key, &format!("{header}.{payload}"))
        .verify_slice(&signature)
        .map_err(|_| JwtError::Signature)?;
    let payload = json_object(payload, "Failed to parse token payload")?;
    if let Some(exp) = payload.get("exp") {
        let exp = exp
            .as_f64()
            .ok_or(JwtError::Malformed("Token 'exp' is not a number"))?;
        if exp < now_secs {
            return Err(JwtError::Expired);
        }
    }
    Ok(payload
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

fn mac(key: &[u8], input: &str) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(input.as_bytes());
    mac
}

fn json_object(part: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a key from --jwt_secret_key";

    #[test]
    fn round_trips_claims() {
        let token = create(&[("fid", "f"), ("eid", "e"), ("cid", "c")], KEY);
        let claims = verify(&token, KEY, 0.0).unwrap();
        assert_eq!(claims.get("fid").map(String::as_str), Some("f"));
        assert_eq!(claims.get("cid").map(String::as_str), Some("c"));
    }

    /// The RFC 7515 appendix A.1 example token verifies (interoperability with other
    /// implementations).
    #[test]
    fn verifies_the_rfc_7515_example() {
        let key = URL_SAFE_NO_PAD
            .decode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            )
            .unwrap();
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let claims = verify(token, &key, 0.0).unwrap();
        assert_eq!(claims.get("iss").map(String::as_str), Some("joe"));
        assert_eq!(
            claims.get("http://example.com/is_root").map(String::as_str),
            Some("true")
        );
        assert_eq!(verify(token, &key, 2e9), Err(JwtError::Expired));
    }

    #[test]
    fn refuses_forged_tokens() {
        let token = create(&[("fid", "f")], KEY);
        assert_eq!(
            verify(&token, b"another key", 0.0),
            Err(JwtError::Signature)
        );
        // Claims swapped under the original signature.
        let other = create(&[("fid", "g")], b"attacker");
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        assert_eq!(verify(&parts.join("."), KEY, 0.0), Err(JwtError::Signature));
        // alg=none with an empty signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(
            verify(&none, KEY, 0.0),
            Err(JwtError::Algorithm("none".into()))
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert!(
                matches!(verify(bad, KEY, 0.0), Err(JwtError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
