//! The image flags (`--image_providers`, `--docker_registry`, `--docker_store_dir`,
//! `--image_provisioner_backend`, `--docker_config`): Mesos's names and defaults, values
//! from `/etc/mesos-slave` files, clear errors for bad values, and `docker/runtime` accepted
//! in `--isolation`.

use std::ffi::OsString;
use std::path::Path;

use meseta_agent::flags::{parse, Config};
use oci_bundles::provision::Backend;

fn config(conf_dir: &Path, args: &[&str]) -> Result<Config, String> {
    let work = conf_dir.join("work");
    let mut cli: Vec<OsString> = vec!["mesos-agent".into(), "--master=127.0.0.1:5050".into()];
    cli.push(format!("--work_dir={}", work.display()).into());
    cli.push("--resources=cpus:1;mem:256;disk:1024;ports:[31000-31010]".into());
    cli.extend(args.iter().map(OsString::from));
    parse(&conf_dir.join("etc"), Vec::new(), cli)
        .and_then(|f| f.into_config())
        .map_err(|e| e.to_string())
}

#[test]
fn images_are_off_without_image_providers_and_defaults_match_mesos() {
    let d = tempfile::tempdir().unwrap();
    let c = config(d.path(), &[]).unwrap();
    assert!(c.images.is_none());
    let c = config(
        d.path(),
        &[
            "--image_providers=docker",
            "--isolation=filesystem/linux,docker/runtime",
        ],
    )
    .unwrap();
    let images = c.images.expect("images on");
    assert_eq!(images.registry, "https://registry-1.docker.io");
    assert_eq!(images.store_dir, Path::new("/tmp/mesos/store/docker"));
    assert!(c.isolation.filesystem_linux);
    let flags: std::collections::HashMap<_, _> = c.flags.into_iter().collect();
    assert_eq!(
        flags.get("image_providers").map(String::as_str),
        Some("docker")
    );
}

#[test]
fn image_flags_come_from_etc_files_and_credentials_stay_hidden() {
    let d = tempfile::tempdir().unwrap();
    let etc = d.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("image_providers"), "DOCKER\n").unwrap();
    std::fs::write(etc.join("docker_registry"), "/srv/images\n").unwrap();
    std::fs::write(etc.join("image_provisioner_backend"), "copy\n").unwrap();
    let creds = d.path().join("config.json");
    std::fs::write(&creds, r#"{"auths":{"r:5000":{"auth":"dTpw"}}}"#).unwrap();
    let c = config(d.path(), &[&format!("--docker_config={}", creds.display())]).unwrap();
    let images = c.images.expect("images on");
    assert_eq!(images.registry, "/srv/images");
    assert_eq!(images.backend, Backend::Copy);
    assert!(images.docker_config.unwrap().contains("dTpw"));
    let flags: std::collections::HashMap<_, _> = c.flags.into_iter().collect();
    assert_eq!(
        flags.get("docker_config").map(String::as_str),
        Some("(set)")
    );
}

#[test]
fn bad_image_flags_are_refused_with_the_flag_named() {
    let d = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["--image_providers=appc"][..], "--image_providers"),
        (
            &[
                "--image_providers=docker",
                "--image_provisioner_backend=aufs",
            ][..],
            "--image_provisioner_backend",
        ),
        (
            &[
                "--image_providers=docker",
                "--docker_config=/nonexistent/config.json",
            ][..],
            "--docker_config",
        ),
        (&["--isolation=docker/volume"][..], "--isolation"),
    ] {
        let err = config(d.path(), args).expect_err(want);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

// `--docker_config` (JSON text or a file path, as Mesos takes it) is read at startup for both
// containerizers, must be a JSON object, and a bad one is refused naming the flag but never
// echoing the (secret) text.

#[test]
fn docker_config_is_read_for_the_docker_containerizer_too() {
    let d = tempfile::tempdir().unwrap();
    let json = r#"{"auths": {"127.0.0.1:5000": {"auth": "dTpw"}}}"#;
    let c = config(
        d.path(),
        &[
            "--containerizers=docker,mesos",
            &format!("--docker_config={json}"),
        ],
    )
    .unwrap();
    assert!(c.images.is_none());
    assert_eq!(c.docker_config.as_deref(), Some(json));
    let file = d.path().join("config.json");
    std::fs::write(&file, json).unwrap();
    let c = config(
        d.path(),
        &[&format!("--docker_config=file://{}", file.display())],
    )
    .unwrap();
    assert_eq!(c.docker_config.as_deref(), Some(json));
    assert!(config(d.path(), &[]).unwrap().docker_config.is_none());
}

#[test]
fn a_bad_docker_config_is_refused_without_echoing_it() {
    let d = tempfile::tempdir().unwrap();
    let not_object = d.path().join("list.json");
    std::fs::write(&not_object, r#"["hunter2"]"#).unwrap();
    for (value, want) in [
        (
            r#"{"auths": {"r": {"auth": "hunter2"}"#.to_owned(),
            "not valid JSON",
        ),
        (not_object.display().to_string(), "not a JSON object"),
        (
            "/nonexistent/config.json".to_owned(),
            "/nonexistent/config.json",
        ),
    ] {
        let err = config(d.path(), &[&format!("--docker_config={value}")]).unwrap_err();
        assert!(
            err.contains("--docker_config") && err.contains(want),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "the secret is echoed: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
