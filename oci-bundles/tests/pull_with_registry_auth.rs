//! Pulling from a real `docker-registry` that requires authentication: `auth: htpasswd`
//! (basic credentials from a Docker `config.json`, as `--docker_config` gives them) and
//! `auth: token` (the puller follows the registry's `WWW-Authenticate: Bearer` challenge to a
//! token server, which the registry trusts through its `rootcertbundle`). Wrong or missing
//! credentials give one error naming the registry and the 401, and leave the store empty.
//! Needs root (layers keep file ownership) and `docker-registry` (scripts/setup.sh).

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::path::Path;

use meseta_tests::registry::{Auth, Registry};
use meseta_tests::token_server::{TokenServer, SERVICE};
use oci_bundles::pull::{NoProgress, PullError, Puller};
use oci_bundles::{Limits, Reference, Store};

const REPO: &str = "team/private";

/// A registry with `auth` holding the three-layer test image as `team/private:v1`.
fn registry(test: &str, auth: Auth) -> Option<Registry> {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED {test}: needs root (layers keep file ownership)");
        return None;
    }
    let reg = Registry::start_with(auth)?;
    reg.push_image(REPO, "v1", &meseta_tests::images::layers());
    Some(reg)
}

fn pull(reg: &Registry, store: &Store, docker_config: Option<&str>) -> Result<usize, PullError> {
    let puller = Puller::new(&reg.url, docker_config)?;
    let reference = Reference::parse(&format!("{REPO}:v1")).expect("reference");
    let image = puller.pull(store, &reference, &NoProgress)?;
    Ok(image.layers.len())
}

/// Entries under `<store>/<sub>`.
fn entries(store: &Path, sub: &str) -> usize {
    std::fs::read_dir(store.join(sub)).map_or(0, |d| d.count())
}

fn assert_store_empty(store: &Path) {
    for sub in ["layers", "images", "staging"] {
        assert_eq!(
            entries(store, sub),
            0,
            "{sub}/ of a failed pull is not empty"
        );
    }
}

#[test]
fn basic_auth_pull_uses_docker_config_credentials() {
    let auth = Auth::Htpasswd {
        user: "alice".into(),
        password: "s3cret".into(),
    };
    let Some(reg) = registry("basic_auth_pull_uses_docker_config_credentials", auth) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Limits::default()).unwrap();
    let config = reg.docker_config("alice", "s3cret");
    assert_eq!(pull(&reg, &store, Some(&config)).unwrap(), 3);
    assert_eq!(entries(dir.path(), "layers"), 3);
    assert!(store.image(&format!("{REPO}:v1")).unwrap().is_some());
}

#[test]
fn wrong_or_missing_basic_credentials_fail_with_401_and_store_nothing() {
    let auth = Auth::Htpasswd {
        user: "alice".into(),
        password: "s3cret".into(),
    };
    let Some(reg) = registry("wrong_or_missing_basic_credentials_fail", auth) else {
        return;
    };
    let other = r#"{"auths": {"registry.example:5000": {"auth": "YWxpY2U6czNjcmV0"}}}"#;
    for config in [
        Some(reg.docker_config("alice", "wrong")),
        Some(reg.docker_config("mallory", "s3cret")),
        Some(other.to_owned()),
        None,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let err = pull(&reg, &store, config.as_deref()).unwrap_err();
        let text = err.to_string();
        eprintln!("error as shown: {text}");
        assert!(matches!(err, PullError::Http { status: 401, .. }), "{text}");
        assert!(text.contains(&reg.url), "names the registry: {text}");
        assert!(text.contains("401"), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
        assert_store_empty(dir.path());
    }
}

#[test]
fn token_auth_follows_the_bearer_challenge_with_scope_pull() {
    let server = TokenServer::start("bob", "hunter2");
    let Some(reg) = registry(
        "token_auth_follows_the_bearer_challenge",
        Auth::Token(server),
    ) else {
        return;
    };
    let Auth::Token(server) = &reg.auth else {
        unreachable!()
    };
    let before = server.requests().len();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Limits::default()).unwrap();
    let config = reg.docker_config("bob", "hunter2");
    assert_eq!(pull(&reg, &store, Some(&config)).unwrap(), 3);
    assert_eq!(entries(dir.path(), "layers"), 3);

    // One token for the manifest, the config and all three layers.
    let asked = server.requests()[before..].to_vec();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].account.as_deref(), Some("bob"));
    assert_eq!(asked[0].service, SERVICE);
    assert_eq!(asked[0].scopes, vec![format!("repository:{REPO}:pull")]);
    assert!(asked[0].granted);
}

#[test]
fn token_auth_with_wrong_or_no_credentials_fails_clearly() {
    let server = TokenServer::start("bob", "hunter2");
    let Some(reg) = registry(
        "token_auth_with_wrong_credentials_fails",
        Auth::Token(server),
    ) else {
        return;
    };
    let Auth::Token(server) = &reg.auth else {
        unreachable!()
    };
    for config in [Some(reg.docker_config("bob", "nope")), None] {
        let before = server.requests().len();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let err = pull(&reg, &store, config.as_deref()).unwrap_err();
        let text = err.to_string();
        eprintln!("error as shown: {text}");
        assert!(text.contains(&reg.url), "names the registry: {text}");
        assert!(text.contains("401"), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
        assert_store_empty(dir.path());
        let asked = server.requests()[before..].to_vec();
        assert!(
            !asked.is_empty() && asked.iter().all(|r| !r.granted),
            "{asked:?}"
        );
    }
}

#[test]
fn token_auth_pulls_docker_manifest_lists_and_digests_picking_linux_amd64() {
    let server = TokenServer::start("ivan", "l1st");
    let Some(reg) = registry(
        "token_auth_pulls_docker_manifest_lists",
        Auth::Token(server),
    ) else {
        return;
    };
    let layers = meseta_tests::images::layers();
    let amd64 = reg.push_manifest_list("team/multi", "v2", &layers);
    let config = reg.docker_config("ivan", "l1st");
    let puller = Puller::new(&reg.url, Some(&config)).unwrap();
    for (reference, what) in [
        ("team/multi:v2".to_owned(), "the manifest list"),
        (
            format!("team/multi@{amd64}"),
            "the amd64 manifest by digest",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let image = puller
            .pull(&store, &Reference::parse(&reference).unwrap(), &NoProgress)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        // The arm64 decoy has one layer; linux/amd64 has all three (gzip, verified).
        assert_eq!(image.layers.len(), 3, "{what}");
        assert_eq!(entries(dir.path(), "layers"), 3, "{what}");
    }
}
