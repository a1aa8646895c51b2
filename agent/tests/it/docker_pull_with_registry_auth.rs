//! Registry credentials for the docker containerizer, against the real dockerd and a real
//! `docker-registry` that requires authentication. `meseta-docker` sends the credentials for
//! the image's registry (from a Docker config, as `--docker_config` gives it) to dockerd as
//! `X-Registry-Auth` on `POST /images/create`; dockerd does the basic or token handshake with
//! the registry itself. Through the agent: a DOCKER task of an unmodified pymesos scheduler
//! is pulled with the agent's `--docker_config`, and fails with dockerd's message when the
//! credentials are refused. Needs root, dockerd, docker-registry and the workspace binaries.

use crate::docker_common::*;
use meseta_docker::{Docker, RegistryAuth};
use meseta_tests::registry::{Auth, Registry as AuthRegistry};
use meseta_tests::token_server::{TokenServer, SERVICE};
use meseta_tests::Cluster;

/// Pushes the three-layer test image to `reg` under a name unique to this test process;
/// returns the reference dockerd pulls (`127.0.0.1:<port>/<repo>:v1`) and the repository.
fn push(reg: &AuthRegistry, name: &str) -> (String, String) {
    let repo = format!("meseta/{name}-{}", std::process::id());
    reg.push_image(&repo, "v1", &meseta_tests::images::layers());
    (format!("{}/{repo}:v1", reg.addr()), repo)
}

/// Removes the image from dockerd on drop, so a failed test leaves nothing behind.
struct RemoveImage<'a>(&'a Docker, String);

impl Drop for RemoveImage<'_> {
    fn drop(&mut self) {
        let _ = rt().block_on(self.0.remove_image(&self.1));
    }
}

fn pull(docker: &Docker, image: &str, auth: Option<&RegistryAuth>) -> Result<(), String> {
    rt().block_on(docker.pull_with_auth(image, auth, &mut |_| {}))
        .map_err(|e| e.to_string())
}

fn present(docker: &Docker, image: &str) -> bool {
    rt().block_on(docker.image_inspect(image))
        .expect("inspect")
        .is_some()
}

/// Credentials for `image` from a docker config holding `user:password` for `reg`.
fn auth(reg: &AuthRegistry, image: &str, user: &str, password: &str) -> RegistryAuth {
    RegistryAuth::for_image(&reg.docker_config(user, password), image)
        .expect("a docker config")
        .expect("credentials for the registry")
}

#[test]
fn dockerd_pulls_from_an_htpasswd_registry_only_with_the_right_credentials() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("dockerd_pulls_from_an_htpasswd_registry") else {
        return;
    };
    let basic = Auth::Htpasswd {
        user: "frank".into(),
        password: "opensesame".into(),
    };
    let reg = AuthRegistry::start_with(basic).expect("docker-registry (scripts/setup.sh)");
    let (image, _) = push(&reg, "basic");
    let _cleanup = RemoveImage(&docker, image.clone());

    for refused in [None, Some(auth(&reg, &image, "frank", "wrong"))] {
        let err = pull(&docker, &image, refused.as_ref()).unwrap_err();
        assert!(
            err.contains("unauthorized") || err.contains("no basic auth credentials"),
            "{err}"
        );
        assert!(!present(&docker, &image), "pulled without credentials");
    }
    pull(
        &docker,
        &image,
        Some(&auth(&reg, &image, "frank", "opensesame")),
    )
    .expect("pull with credentials");
    assert!(present(&docker, &image));
}

#[test]
fn dockerd_follows_the_token_challenge_with_the_credentials() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("dockerd_follows_the_token_challenge") else {
        return;
    };
    let reg = AuthRegistry::start_with(Auth::Token(TokenServer::start("grace", "tok3n")))
        .expect("docker-registry (scripts/setup.sh)");
    let Auth::Token(server) = &reg.auth else {
        unreachable!()
    };
    let (image, repo) = push(&reg, "token");
    let _cleanup = RemoveImage(&docker, image.clone());

    let before = server.requests().len();
    let err = pull(&docker, &image, Some(&auth(&reg, &image, "grace", "nope"))).unwrap_err();
    assert!(err.contains("unauthorized") || err.contains("401"), "{err}");
    assert!(server.requests()[before..].iter().all(|r| !r.granted));

    let before = server.requests().len();
    pull(&docker, &image, Some(&auth(&reg, &image, "grace", "tok3n"))).expect("pull");
    assert!(present(&docker, &image));
    let asked = server.requests()[before..].to_vec();
    assert!(
        asked.iter().any(|r| r.granted
            && r.account.as_deref() == Some("grace")
            && r.service == SERVICE
            && r.scopes.contains(&format!("repository:{repo}:pull"))),
        "{asked:?}"
    );
}

#[test]
fn docker_tasks_pull_with_the_agents_docker_config() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("docker_tasks_pull_with_the_agents_docker_config") else {
        return;
    };
    let basic = Auth::Htpasswd {
        user: "heidi".into(),
        password: "letmein".into(),
    };
    let reg = AuthRegistry::start_with(basic).expect("docker-registry (scripts/setup.sh)");
    let (image, _) = push(&reg, "task");
    let _cleanup = RemoveImage(&docker, image.clone());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");

    // Refused credentials: TASK_FAILED with dockerd's word for it.
    std::fs::write(&config, reg.docker_config("heidi", "guess")).unwrap();
    let flag = format!("--docker_config={}", config.display());
    let cluster = Cluster::start_with(&options(RESOURCES, &[flag.as_str()]));
    let _containers = RemoveContainersUnder(cluster.dir.path().to_owned());
    let mut run = scenario(&cluster, "docker_pull", 120, &[]);
    run.env("MESETA_DOCKER_IMAGE", &image)
        .env("MESETA_EXPECT_FINAL", "TASK_FAILED")
        .env(
            "MESETA_EXPECT_MESSAGE",
            format!("Failed to pull image '{image}'"),
        );
    let out = run.output().expect("scenario.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", cluster.logs());
    assert!(stdout.contains("unauthorized"), "{stdout}");
    assert!(!present(&docker, &image));
    // The credentials file the executors read is root's alone, outside every sandbox.
    let written = cluster.dir.path().join("run/docker/config.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&written).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{}", written.display());
    drop(cluster);

    // The right credentials: the task runs in the pulled image.
    std::fs::write(&config, reg.docker_config("heidi", "letmein")).unwrap();
    let cluster = Cluster::start_with(&options(RESOURCES, &[flag.as_str()]));
    let _containers = RemoveContainersUnder(cluster.dir.path().to_owned());
    let mut run = scenario(&cluster, "docker_pull", 120, &[]);
    run.env("MESETA_DOCKER_IMAGE", &image);
    let out = run.output().expect("scenario.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", cluster.logs());
    assert!(present(&docker, &image));
    let (_, sandbox) = executor(cluster.agent_port, "dpullauth");
    let task_out = std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap_or_default();
    assert!(task_out.contains("pulled-with-credentials"), "{task_out}");
}
