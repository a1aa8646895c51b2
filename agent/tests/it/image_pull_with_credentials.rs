//! `--docker_config` end to end against a real `docker-registry` that requires
//! authentication: `agentctl pull --docker_config` through token auth (the token server must
//! see `repository:<repo>:pull` from the configured user), and image tasks of an unmodified
//! pymesos scheduler on a real agent started with `--docker_config` (a path, and JSON text).
//! Refused credentials give one readable line (agentctl) or a TASK_FAILED naming the 401.
//! Needs root and `docker-registry` (scripts/setup.sh).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

use meseta_tests::registry::{Auth, Registry};
use meseta_tests::token_server::{TokenServer, SERVICE};
use meseta_tests::{images, root_or_skip, Cluster, ClusterOptions};

/// One cluster at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

const REPO: &str = "team/private";
const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-32000]";
const ISOLATION: &str = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime";

/// A registry with `auth` holding the three-layer test image as `team/private:v1`.
fn registry(test: &str, auth: Auth) -> Option<Registry> {
    if !root_or_skip(test) {
        return None;
    }
    let reg = Registry::start_with(auth)?;
    reg.push_image(REPO, "v1", &images::layers());
    Some(reg)
}

fn token_server(reg: &Registry) -> &TokenServer {
    match &reg.auth {
        Auth::Token(server) => server,
        _ => panic!("not a token registry"),
    }
}

fn agentctl_pull(reg: &Registry, store: &Path, config: &Path) -> Output {
    Command::new(meseta_tests::bin("agentctl"))
        .args(["pull", &format!("{REPO}:v1")])
        .arg(format!("--docker_registry={}", reg.url))
        .arg(format!("--docker_store_dir={}", store.display()))
        .arg(format!("--docker_config={}", config.display()))
        .output()
        .expect("agentctl")
}

#[test]
fn agentctl_pull_gets_a_token_with_docker_config_credentials() {
    let server = TokenServer::start("carol", "pa55word");
    let Some(reg) = registry("agentctl_pull_gets_a_token", Auth::Token(server)) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("config.json");
    std::fs::write(&good, reg.docker_config("carol", "pa55word")).unwrap();
    let before = token_server(&reg).requests().len();
    let out = agentctl_pull(&reg, &tmp.path().join("store"), &good);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("team/private:v1: 3 layers"), "{stdout}");
    let asked = token_server(&reg).requests()[before..].to_vec();
    assert!(
        asked.iter().any(|r| r.granted
            && r.account.as_deref() == Some("carol")
            && r.service == SERVICE
            && r.scopes == [format!("repository:{REPO}:pull")]),
        "{asked:?}"
    );

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, reg.docker_config("carol", "guess")).unwrap();
    let store = tmp.path().join("store2");
    let out = agentctl_pull(&reg, &store, &bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("agentctl: pull: "), "{stderr}");
    assert!(
        stderr.contains(&reg.url) && stderr.contains("401"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(store.join("layers")).unwrap().count(), 0);
}

/// A cluster whose agent pulls from `reg` with `--docker_config=<config>`.
fn start_cluster(reg: &Registry, store: &Path, config: &str) -> Cluster {
    let mut opts = ClusterOptions::new(RESOURCES);
    opts.isolation = ISOLATION.into();
    opts.agent_args = vec![
        "--image_providers=docker".into(),
        format!("--docker_registry={}", reg.url),
        format!("--docker_store_dir={}", store.display()),
        format!("--docker_config={config}"),
    ];
    Cluster::start_with(&opts)
}

fn run_image_task(cluster: &Cluster, expect_failure: Option<&str>) {
    let image = format!("{REPO}:v1");
    let mut env = vec![("IMAGE_NAME", image.as_str())];
    if let Some(text) = expect_failure {
        env.push(("IMAGE_EXPECT_FAILURE", text));
    }
    cluster.run_scenario("image_task", 120, &env);
}

#[test]
fn image_tasks_pull_through_token_auth_with_the_agents_docker_config() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = TokenServer::start("dave", "t0ken-pass");
    let Some(reg) = registry("image_tasks_pull_through_token_auth", Auth::Token(server)) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.json");
    std::fs::write(&config, reg.docker_config("dave", "t0ken-pass")).unwrap();
    let before = token_server(&reg).requests().len();
    let cluster = start_cluster(
        &reg,
        &tmp.path().join("store"),
        &config.display().to_string(),
    );
    run_image_task(&cluster, None);
    let asked = token_server(&reg).requests()[before..].to_vec();
    assert!(!asked.is_empty(), "the agent never asked for a token");
    for r in &asked {
        assert_eq!(r.account.as_deref(), Some("dave"), "{asked:?}");
        assert_eq!(r.scopes, [format!("repository:{REPO}:pull")], "{asked:?}");
        assert!(r.granted, "{asked:?}");
    }
}

#[test]
fn image_tasks_fail_with_the_401_when_basic_credentials_are_refused() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let auth = Auth::Htpasswd {
        user: "erin".into(),
        password: "right".into(),
    };
    let Some(reg) = registry("image_tasks_fail_with_the_401", auth) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    // --docker_config as JSON text, as Mesos also accepts it.
    let cluster = start_cluster(&reg, &store, &reg.docker_config("erin", "wrong"));
    run_image_task(&cluster, Some("HTTP 401"));
    assert_eq!(std::fs::read_dir(store.join("layers")).unwrap().count(), 0);
    drop(cluster);
    // The same agent flags with the right password run the image.
    let cluster = start_cluster(&reg, &store, &reg.docker_config("erin", "right"));
    run_image_task(&cluster, None);
}
