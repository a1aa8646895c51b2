//! `--docker_config` (JSON text or a file path, as Mesos takes it) is read at startup for
//! both containerizers, must be a JSON object, and a bad one is refused naming the flag but
//! never echoing the (secret) text.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::ffi::OsString;
use std::path::Path;

use meseta_agent::flags::{parse, Config};

fn config(dir: &Path, args: &[&str]) -> Result<Config, String> {
    let mut cli: Vec<OsString> = vec!["mesos-agent".into(), "--master=127.0.0.1:5050".into()];
    cli.push(format!("--work_dir={}", dir.join("work").display()).into());
    cli.push("--resources=cpus:1;mem:256;disk:1024;ports:[31000-31010]".into());
    cli.extend(args.iter().map(OsString::from));
    parse(&dir.join("etc"), Vec::new(), cli)
        .and_then(|f| f.into_config())
        .map_err(|e| e.to_string())
}

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
