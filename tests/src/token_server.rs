//! A Docker token server for tests: the "authorization service" of the registry token auth
//! spec (docker/distribution `docs/spec/auth/token.md`), on a loopback port. A client sends
//! `GET /token?service=...&scope=repository:<repo>:<actions>` with HTTP basic credentials and
//! gets `{"token": <JWT>}`. The JWT is signed with ES256 by a key whose self-signed
//! certificate ([`TokenServer::cert_pem`]) the real `docker-registry` trusts through its
//! `auth.token.rootcertbundle`; the certificate rides in the JWT header's `x5c`, as
//! distribution's `token.go` verifies it. Every request is recorded for the tests to check.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

/// The `service` the registry and its tokens name.
pub const SERVICE: &str = "meseta-test-registry";
/// The `iss` of every token.
pub const ISSUER: &str = "meseta-test-token-server";

/// One request the token server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The user of the basic credentials, when any were sent.
    pub account: Option<String>,
    /// The `service` query parameter.
    pub service: String,
    /// Every `scope` query parameter, as sent (`repository:<repo>:pull`).
    pub scopes: Vec<String>,
    /// Whether a token was issued (the credentials were right).
    pub granted: bool,
}

/// Signs tokens: the ES256 key and its certificate.
#[derive(Debug)]
struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    rng: SystemRandom,
}

impl Signer {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().expect("generate a P-256 key");
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("certificate params");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        let rng = SystemRandom::new();
        let signing =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
                .expect("ring accepts rcgen's PKCS#8 key");
        Self {
            key: signing,
            cert_der: cert.der().to_vec(),
            rng,
        }
    }

    /// A compact JWS of `claims`. Hand-written (three base64url parts and one ring call):
    /// `jsonwebtoken` 10 would pull a second crypto stack into the workspace.
    fn sign(&self, claims: &serde_json::Value) -> String {
        let header =
            json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", part(&header), part(claims));
        let signature = self
            .key
            .sign(&self.rng, input.as_bytes())
            .expect("ECDSA signing");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// The token server; stops on drop.
pub struct TokenServer {
    /// `http://127.0.0.1:<port>/token`: the registry's `auth.token.realm`.
    pub realm: String,
    /// The one user it knows.
    pub user: String,
    password: String,
    signer: Arc<Signer>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("realm", &self.realm)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl TokenServer {
    /// Starts a token server on a free loopback port that grants whatever scope `user`
    /// asks for with `password`, and answers 401 to anyone else.
    pub fn start(user: &str, password: &str) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind token server"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let mut me = Self {
            realm: format!("http://127.0.0.1:{port}/token"),
            user: user.to_owned(),
            password: password.to_owned(),
            signer: Arc::new(Signer::new()),
            requests: Arc::default(),
            server: Arc::clone(&server),
            thread: None,
        };
        let (signer, requests) = (Arc::clone(&me.signer), Arc::clone(&me.requests));
        let creds = (me.user.clone(), me.password.clone());
        me.thread = Some(std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let (status, body, seen) = answer(&request, &creds, &signer);
                requests
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(seen);
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .expect("static header");
                let response = tiny_http::Response::from_string(body.to_string())
                    .with_status_code(status)
                    .with_header(header);
                let _ = request.respond(response);
            }
        }));
        me
    }

    /// The certificate that verifies the tokens (the registry's `rootcertbundle`).
    pub fn cert_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.signer.cert_der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The password of [`TokenServer::user`].
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// Status, JSON body and the record of one token request.
fn answer(
    request: &tiny_http::Request,
    (user, password): &(String, String),
    signer: &Signer,
) -> (u16, serde_json::Value, TokenRequest) {
    let query = request.url().split_once('?').map_or("", |(_, q)| q);
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let param = |name: &'static str| {
        params
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v)
    };
    let basic = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .and_then(|h| h.value.as_str().strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (account, given) = match basic.as_deref().and_then(|b| b.split_once(':')) {
        Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
        None => (None, None),
    };
    let mut seen = TokenRequest {
        account: account.clone(),
        service: param("service").next().cloned().unwrap_or_default(),
        scopes: param("scope").cloned().collect(),
        granted: false,
    };
    if account.as_deref() != Some(user) || given.as_deref() != Some(password) {
        let body = json!({"errors": [{"code": "UNAUTHORIZED",
            "message": "authentication required: unknown user or wrong password"}]});
        return (401, body, seen);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let access: Vec<serde_json::Value> = seen.scopes.iter().filter_map(|s| access(s)).collect();
    let claims = json!({
        "iss": ISSUER, "sub": user, "aud": seen.service,
        "exp": now + 300, "nbf": now.saturating_sub(10), "iat": now,
        "jti": format!("{now}-{}", seen.scopes.len()), "access": access,
    });
    let token = signer.sign(&claims);
    seen.granted = true;
    let body = json!({"token": token, "access_token": token, "expires_in": 300});
    (200, body, seen)
}

/// `repository:<name>:<a,b>` as a token `access` entry.
fn access(scope: &str) -> Option<serde_json::Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    Some(json!({"type": kind, "name": name, "actions": actions}))
}

/// Decodes `%XX` and `+` of a query component. Hand-written: six lines, no other use.
fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let decoded = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match decoded {
                    Some(d) => out.push(d),
                    None => {
                        out.push(b'%');
                        out.extend(hex);
                    }
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
