//! marathon-lb's HAProxy side against a real HAProxy (Debian's 2.6) and real backend servers
//! on loopback: apps given as Marathon's `/v2/apps?embed=apps.tasks` JSON go live, server-only
//! changes go through the runtime API without a reload, frontend changes reload without a
//! failed request, a bad label or a refused template override leaves only that app out, and a
//! configuration HAProxy refuses leaves the running one serving. (The end-to-end test with the
//! real `marathon` is `marathon_lb_serves_marathon_apps.rs`.)

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meseta_marathon_lb::apps::Options;
use meseta_marathon_lb::config::GenOptions;
use meseta_marathon_lb::haproxy::Haproxy;
use meseta_marathon_lb::lb::{Applied, Lb};
use meseta_marathon_lb::templates::Templater;
use serde_json::{json, Value};

fn haproxy_or_skip(test: &str) -> bool {
    if Path::new("/usr/sbin/haproxy").exists() {
        return true;
    }
    eprintln!("SKIPPED {test}: haproxy is not installed (run scripts/setup.sh)");
    false
}

/// A backend answering every request with its own name; stops when dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(name: &str) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (name, stop2) = (name.to_owned(), stop.clone());
        l.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let name = name.clone();
                        std::thread::spawn(move || {
                            c.set_nonblocking(false).ok();
                            c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                            let mut buf = [0u8; 4096];
                            let mut got = Vec::new();
                            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                                match c.read(&mut buf) {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => got.extend_from_slice(&buf[..n]),
                                }
                            }
                            let _ = write!(
                                c,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                                name.len(),
                                name
                            );
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server { port, stop }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One GET through HAProxy; the body, or why it failed.
fn get(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    if !out.starts_with("HTTP/1.1 200") {
        return Err(out.lines().next().unwrap_or("empty answer").to_owned());
    }
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned())
}

struct Rig {
    dir: tempfile::TempDir,
    stats_port: u16,
    appid_port: u16,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            dir: tempfile::tempdir().unwrap(),
            stats_port: meseta_tests::free_port(),
            appid_port: meseta_tests::free_port(),
        }
    }

    fn head(&self, extra: &str) -> String {
        format!(
            "global\n  stats socket {}/sock mode 600 level admin expose-fd listeners\n  hard-stop-after 10s\n{extra}\
             defaults\n  timeout connect 3s\n  timeout client 30s\n  timeout server 30s\n  option redispatch\n  retries 3\n\
             listen stats\n  bind 127.0.0.1:{}\n  mode http\n  monitor-uri /_haproxy_health_check\n",
            self.dir.path().display(),
            self.stats_port
        )
    }

    fn lb(&self, head: String) -> Lb {
        let appid = format!(
            "\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:{}\n  mode http\n",
            self.appid_port
        );
        let templates = Templater::load(
            &|k| match k {
                "HAPROXY_HEAD" => Some(head.clone()),
                "HAPROXY_HTTP_FRONTEND_APPID_HEAD" => Some(appid.clone()),
                _ => None,
            },
            None,
        );
        Lb::new(
            templates,
            Options {
                strict_mode: false,
                health_check: false,
                ip_per_task_ports: (10050, 10100),
            },
            GenOptions {
                groups: vec!["external".into()],
                bind_http_https: false,
                ssl_certs: String::new(),
                haproxy_map: false,
                haproxy_dir: self.dir.path().display().to_string(),
                control_addr: "127.0.0.1:9".into(),
            },
            Haproxy {
                config: self.dir.path().join("haproxy.cfg"),
                pid_file: self.dir.path().join("haproxy.pid"),
                command: None,
                archive_versions: 3,
                skip_validation: false,
                binary: "haproxy".into(),
            },
            false,
        )
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("haproxy.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                for w in meseta_marathon_lb::haproxy::workers(pid) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(w),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
}

fn app(id: &str, service_port: u16, backends: &[&Server], labels: Value) -> Value {
    let mut l = json!({"HAPROXY_GROUP": "external", "HAPROXY_0_BIND_ADDR": "127.0.0.1", "HAPROXY_0_MODE": "http"});
    for (k, v) in labels.as_object().unwrap() {
        l[k] = v.clone();
    }
    let tasks: Vec<Value> = backends
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"id": format!("{}.{i}", &id[1..]), "host": "127.0.0.1", "ports": [s.port], "state": "TASK_RUNNING"}))
        .collect();
    json!({"id": id, "labels": l, "portDefinitions": [{"port": service_port}], "tasks": tasks})
}

fn seen(port: u16, n: usize) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for _ in 0..n {
        *m.entry(get(port).unwrap_or_else(|e| format!("ERR {e}")))
            .or_insert(0) += 1;
    }
    m
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn scaling_up_and_down_changes_servers_without_a_reload() {
    if !haproxy_or_skip("scaling_up_and_down_changes_servers_without_a_reload") {
        return;
    }
    let rig = Rig::new();
    let rt = rt();
    let mut lb = rig.lb(rig.head(""));
    let sp = meseta_tests::free_port();
    let (a, b, c) = (Server::start("a"), Server::start("b"), Server::start("c"));
    let applied = rt
        .block_on(lb.apply(&[app("/web", sp, &[&a, &b], json!({}))], Instant::now()))
        .unwrap();
    assert_eq!(applied, Applied::Reloaded);
    let m = seen(sp, 20);
    assert_eq!(m.get("a"), Some(&10), "balanced over both: {m:?}");
    assert_eq!(m.get("b"), Some(&10), "balanced over both: {m:?}");

    // Scale to three: the runtime API, and the new backend takes traffic at once.
    let t0 = Instant::now();
    let applied = rt
        .block_on(lb.apply(&[app("/web", sp, &[&a, &b, &c], json!({}))], t0))
        .unwrap();
    assert_eq!(applied, Applied::Runtime);
    let mut took_c = false;
    while t0.elapsed() < Duration::from_secs(1) && !took_c {
        took_c = get(sp).is_ok_and(|n| n == "c");
    }
    assert!(
        took_c,
        "the new backend got no request within 1 s: {:?}",
        seen(sp, 9)
    );

    // Scale down: the removed task gets no new request.
    let applied = rt
        .block_on(lb.apply(&[app("/web", sp, &[&b, &c], json!({}))], Instant::now()))
        .unwrap();
    assert_eq!(applied, Applied::Runtime);
    let m = seen(sp, 30);
    assert!(
        !m.contains_key("a"),
        "a removed backend still got requests: {m:?}"
    );
    assert_eq!(m.values().sum::<usize>(), 30);
    // The file on disk follows the runtime changes (written in the background, so a restart
    // or a later reload keeps them) and the previous one was archived.
    let cfg_path = rig.dir.path().join("haproxy.cfg");
    let follows = || {
        std::fs::read_to_string(&cfg_path).is_ok_and(|cfg| {
            !cfg.contains(&format!(":{} ", a.port)) && cfg.contains(&format!(":{} ", c.port))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !follows() && Instant::now() < deadline {
        // The write is a task of this (current-thread) runtime: drive it.
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(20)).await });
    }
    assert!(
        follows(),
        "{}",
        std::fs::read_to_string(&cfg_path).unwrap_or_default()
    );
    assert!(rig.dir.path().join("haproxy.cfg.1").exists());
}

#[test]
fn reloads_and_runtime_changes_under_load_fail_no_request() {
    if !haproxy_or_skip("reloads_and_runtime_changes_under_load_fail_no_request") {
        return;
    }
    let rig = Rig::new();
    let rt = rt();
    let mut lb = rig.lb(rig.head(""));
    let (sp, sp2) = (meseta_tests::free_port(), meseta_tests::free_port());
    let servers: Vec<Server> = (0..4).map(|i| Server::start(&format!("s{i}"))).collect();
    rt.block_on(lb.apply(
        &[app("/web", sp, &[&servers[0], &servers[1]], json!({}))],
        Instant::now(),
    ))
    .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let d2 = done.clone();
    let load = std::thread::spawn(move || {
        let (mut ok, mut failed) = (0usize, Vec::new());
        // Bounded: at most 5,000 requests or until the reconfigurations end.
        while !d2.load(Ordering::Relaxed) && ok + failed.len() < 5_000 {
            match get(sp) {
                Ok(_) => ok += 1,
                Err(e) => failed.push(e),
            }
        }
        (ok, failed)
    });
    let mut reloads = 0;
    for round in 0..20 {
        // Odd rounds add or drop a second app (a new frontend: a reload); even rounds move
        // /web to other backends (runtime API). The backends of /web always stay up.
        let web = if round % 4 < 2 {
            app("/web", sp, &[&servers[0], &servers[1]], json!({}))
        } else {
            app("/web", sp, &[&servers[1], &servers[2]], json!({}))
        };
        let mut apps = vec![web];
        if round % 2 == 1 && round % 4 == 1 {
            apps.push(app("/other", sp2, &[&servers[3]], json!({})));
        }
        if rt.block_on(lb.apply(&apps, Instant::now())).unwrap() == Applied::Reloaded {
            reloads += 1;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    done.store(true, Ordering::Relaxed);
    let (ok, failed) = load.join().unwrap();
    assert!(reloads >= 5, "only {reloads} reloads happened");
    assert!(ok > 100, "too few requests went through: {ok}");
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        ok + failed.len(),
        &failed[..failed.len().min(5)]
    );
    // Old workers do not pile up: only the current worker (and at most one finishing).
    let pid: i32 = std::fs::read_to_string(rig.dir.path().join("haproxy.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(meseta_marathon_lb::haproxy::workers(pid).len() <= 2);
}

#[test]
fn a_bad_label_or_a_refused_override_leaves_only_that_app_out() {
    if !haproxy_or_skip("a_bad_label_or_a_refused_override_leaves_only_that_app_out") {
        return;
    }
    let rig = Rig::new();
    let rt = rt();
    let mut lb = rig.lb(rig.head(""));
    let (sp1, sp2, sp3) = (
        meseta_tests::free_port(),
        meseta_tests::free_port(),
        meseta_tests::free_port(),
    );
    let (a, b, c) = (
        Server::start("good"),
        Server::start("badlabel"),
        Server::start("badoverride"),
    );
    let apps = [
        app("/good", sp1, &[&a], json!({})),
        app("/badlabel", sp2, &[&b], json!({"HAPROXY_0_MODE": "udp"})),
        // Fills in, but HAProxy refuses the keyword: found by `haproxy -c`, then left out.
        app(
            "/badoverride",
            sp3,
            &[&c],
            json!({"HAPROXY_0_BACKEND_HEAD": "\nbackend {backend}\n  balance roundrobin\n  no_such_keyword 1\n"}),
        ),
    ];
    let applied = rt.block_on(lb.apply(&apps, Instant::now())).unwrap();
    assert_eq!(applied, Applied::Reloaded);
    assert_eq!(get(sp1).unwrap(), "good");
    assert!(get(sp2).is_err(), "the app with a bad label was served");
    assert!(
        get(sp3).is_err(),
        "the app with a refused override was served"
    );
}

#[test]
fn a_configuration_haproxy_refuses_leaves_the_running_one_serving() {
    if !haproxy_or_skip("a_configuration_haproxy_refuses_leaves_the_running_one_serving") {
        return;
    }
    let rig = Rig::new();
    let rt = rt();
    let sp = meseta_tests::free_port();
    let a = Server::start("a");
    let mut lb = rig.lb(rig.head(""));
    rt.block_on(lb.apply(&[app("/web", sp, &[&a], json!({}))], Instant::now()))
        .unwrap();
    let before = std::fs::read_to_string(rig.dir.path().join("haproxy.cfg")).unwrap();
    // A broken HAPROXY_HEAD override: nothing to leave out, so nothing changes.
    let mut broken = rig.lb(rig.head("  no_such_global_keyword\n"));
    let err = rt.block_on(broken.apply(&[app("/web", sp, &[&a], json!({}))], Instant::now()));
    let err = err
        .expect_err("a refused configuration was applied")
        .to_string();
    assert!(
        err.contains("no_such_global_keyword"),
        "the error does not say why: {err}"
    );
    assert_eq!(get(sp).unwrap(), "a");
    assert_eq!(
        std::fs::read_to_string(rig.dir.path().join("haproxy.cfg")).unwrap(),
        before
    );
}
