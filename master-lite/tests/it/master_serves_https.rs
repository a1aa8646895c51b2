//! The real `mesos-master` serves HTTPS when libprocess's variables say so
//! (`LIBPROCESS_SSL_ENABLED`, `LIBPROCESS_SSL_CERT_FILE`, `LIBPROCESS_SSL_KEY_FILE`), with a
//! self-signed certificate made here and a client that trusts only it; plain HTTP is refused
//! unless `LIBPROCESS_SSL_SUPPORT_DOWNGRADE` is set; a missing key is one readable error line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use meseta_tests::{bin, free_port, http, wait_until};
use rustls::pki_types::{CertificateDer, ServerName};

struct Pki {
    dir: tempfile::TempDir,
    der: Vec<u8>,
}

fn pki() -> Pki {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
    Pki {
        dir,
        der: cert.der().to_vec(),
    }
}

fn master(pki: &Pki, extra: &[(&str, &str)]) -> (std::process::Child, u16) {
    let port = free_port();
    let child = Command::new(bin("mesos-master"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!(
            "--work_dir={}",
            pki.dir.path().join(format!("m{port}")).display()
        ))
        .env("MESETA_MASTER_CONF_DIR", pki.dir.path().join("no-etc"))
        .env("LIBPROCESS_SSL_ENABLED", "true")
        .env("LIBPROCESS_SSL_CERT_FILE", pki.dir.path().join("cert.pem"))
        .env("LIBPROCESS_SSL_KEY_FILE", pki.dir.path().join("key.pem"))
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, port)
}

/// GET over TLS, trusting only `der`; returns the raw response.
fn https_get(der: &[u8], port: u16, path: &str) -> std::io::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(der.to_vec()))
        .map_err(std::io::Error::other)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(std::io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
    let conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
    let sock = TcpStream::connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server closing without close_notify after a complete answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

#[test]
fn master_serves_https_and_refuses_plain_http() {
    let pki = pki();
    let (mut child, port) = master(&pki, &[]);
    let up = wait_until(Duration::from_secs(20), || {
        https_get(&pki.der, port, "/health").is_ok_and(|r| r.starts_with("HTTP/1.1 200"))
    });
    assert!(up, "no HTTPS /health");
    let state = https_get(&pki.der, port, "/state").unwrap();
    assert!(
        state.starts_with("HTTP/1.1 200") && state.contains("\"frameworks\""),
        "{state}"
    );
    let plain = http("GET", port, "/health", None);
    assert!(
        !matches!(plain, Ok((200, _))),
        "plain HTTP answered: {plain:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn downgrade_accepts_both_on_one_port() {
    let pki = pki();
    let (mut child, port) = master(&pki, &[("LIBPROCESS_SSL_SUPPORT_DOWNGRADE", "1")]);
    let up = wait_until(Duration::from_secs(20), || {
        https_get(&pki.der, port, "/health").is_ok_and(|r| r.starts_with("HTTP/1.1 200"))
    });
    assert!(up, "no HTTPS /health");
    assert_eq!(http("GET", port, "/health", None).unwrap().0, 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_missing_key_is_one_readable_error() {
    let pki = pki();
    std::fs::remove_file(pki.dir.path().join("key.pem")).unwrap();
    let (child, _) = master(&pki, &[]);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mesos-master: cannot read the private key"),
        "{err}"
    );
    assert!(err.contains("key.pem"), "{err}");
}

#[test]
fn an_agent_registers_with_a_tls_master_and_serves_https() {
    let pki = pki();
    let (mut master, port) = master(&pki, &[]);
    assert!(wait_until(Duration::from_secs(20), || {
        https_get(&pki.der, port, "/health").is_ok_and(|r| r.starts_with("HTTP/1.1 200"))
    }));
    let agent_port = free_port();
    let dir = pki.dir.path();
    let mut agent = Command::new(bin("mesos-agent"))
        .arg(format!("--master=127.0.0.1:{port}"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={agent_port}"))
        .arg(format!("--work_dir={}", dir.join("agent").display()))
        .arg(format!("--runtime_dir={}", dir.join("run").display()))
        .arg("--isolation=filesystem/posix")
        .arg("--resources=cpus:1;mem:128;disk:10")
        .arg(format!(
            "--launcher_dir={}",
            meseta_tests::bin_dir().display()
        ))
        .env("MESETA_AGENT_CONF_DIR", dir.join("no-etc"))
        .env("LIBPROCESS_SSL_ENABLED", "1")
        .env("LIBPROCESS_SSL_CERT_FILE", dir.join("cert.pem"))
        .env("LIBPROCESS_SSL_KEY_FILE", dir.join("key.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let registered = wait_until(Duration::from_secs(20), || {
        https_get(&pki.der, port, "/state").is_ok_and(|r| r.contains("\"slaves\":[{"))
    });
    let agent_https = https_get(&pki.der, agent_port, "/health");
    let _ = agent.kill();
    let _ = agent.wait();
    let _ = master.kill();
    let _ = master.wait();
    assert!(registered, "the agent did not register over TLS");
    assert!(agent_https.is_ok_and(|r| r.starts_with("HTTP/1.1 200")));
}
