//! Chronos's web UI in a real headless Chromium against a real master and agent: create a
//! job and a dependent one from JSON, see the API's message for bad input, run the job now
//! and watch it (and its child) succeed, see the dependency graph drawn, disable and delete
//! jobs, each checked through `/v1/scheduler`. Every page is valid HTML, renders read-only
//! with JavaScript disabled, and is screenshotted into `target/ui-screenshots/`.

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::time::Duration;

use common::Chronos;
use meseta_tests::browser::{html_problems, Browser};
use meseta_tests::{http, root_or_skip, wait_until, Cluster};

const PARENT: &str = r#"{"name": "ui-hello", "command": "echo hello from the UI", "schedule": "R/2030-01-01T00:00:00Z/PT24H", "owner": "ops@example.com", "cpus": 0.1, "mem": 32}"#;
const CHILD: &str = r#"{"name": "ui-child", "command": "true", "parents": ["ui-hello"], "owner": "ops@example.com", "cpus": 0.1, "mem": 32}"#;

/// The raw server HTML of `path` is valid and labelled.
fn valid_page(c: &Chronos, path: &str, status: u16) {
    let (s, body) = http("GET", c.port, path, None).expect("GET");
    assert_eq!(s, status, "GET {path}: {body}");
    assert_eq!(html_problems(&body), Vec::<String>::new(), "GET {path}");
}

fn count(c: &Chronos, job: &str, field: &str) -> u64 {
    c.job(job).and_then(|j| j[field].as_u64()).unwrap_or(0)
}

#[test]
fn create_and_run_a_job_in_the_browser() {
    if !root_or_skip("create_and_run_a_job_in_the_browser") {
        return;
    }
    let cluster = Cluster::start("cpus:4;mem:4096;disk:20000");
    let work = tempfile::tempdir().unwrap();
    let c = Chronos::start(
        work.path(),
        "chronos",
        &[
            format!("--master=127.0.0.1:{}", cluster.master_port),
            format!("--state_dir={}", work.path().join("state").display()),
        ],
    );
    let base = format!("http://127.0.0.1:{}", c.port);
    let t = Duration::from_secs(60);
    assert!(
        wait_until(t, || http("GET", c.port, "/v1/scheduler/jobs", None)
            .is_ok_and(|(s, _)| s == 200)),
        "chronos did not lead: {}",
        c.logs()
    );
    let b = Browser::start();
    b.open(&format!("{base}/"));
    b.wait_for_text("main", "No jobs", t);
    b.screenshot("chronos-jobs-empty");

    // Bad input: the API's own 400 message, the typed text kept, nothing stored.
    b.click("a[href='/ui/new'].button");
    let bad = r#"{"name": "ui-hello", "schedule": "R/2030-01-01T00:00:00Z/PT24H", "owner": "x"}"#;
    b.type_into("#job-json", bad);
    b.click("form[action='/ui/create'] button");
    let banner = b.wait_for_text(".banner", "400", t);
    let (_, api) = http("POST", c.port, "/v1/scheduler/iso8601", Some(bad)).unwrap();
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let api_msg = api["message"].as_str().expect("API message");
    assert!(
        banner.contains(api_msg),
        "banner {banner:?} lacks the API's {api_msg:?}"
    );
    b.screenshot("chronos-create-error");
    b.type_into("#job-json", "{not json");
    b.click("form[action='/ui/create'] button");
    b.wait_for_text(".banner", "invalid job JSON", t);
    assert!(c.job("ui-hello").is_none());

    // Create the job and a dependent one.
    b.type_into("#job-json", PARENT);
    b.click("form[action='/ui/create'] button");
    b.wait_for_text("h1", "ui-hello", t);
    assert_eq!(c.job("ui-hello").expect("stored")["disabled"], false);
    b.open(&format!("{base}/ui/new"));
    b.type_into("#job-json", CHILD);
    b.click("form[action='/ui/create'] button");
    b.wait_for_text("h1", "ui-child", t);
    assert_eq!(c.job("ui-child").expect("stored")["parents"][0], "ui-hello");

    // Run now: the job succeeds on the agent, and then its child.
    b.open(&format!("{base}/ui/job?name=ui-hello"));
    b.click("form[action='/ui/run'] button");
    b.wait_for_text(".banner", "Run queued", t);
    assert!(
        wait_until(t, || count(&c, "ui-hello", "successCount") >= 1),
        "the job did not succeed: {}\n{}",
        c.logs(),
        cluster.logs()
    );
    assert!(
        wait_until(t, || count(&c, "ui-child", "successCount") >= 1),
        "the dependent job did not run: {}",
        c.logs()
    );

    // The jobs page shows the counts (its table refreshes itself) and draws the graph.
    b.open(&format!("{base}/"));
    b.wait_for_text("#jobs tbody tr:first-child td:nth-child(6)", "1", t);
    b.wait_for_text("#jobs tbody tr:nth-child(2) td:nth-child(6)", "1", t);
    let nodes = b.eval(
        "return document.querySelectorAll('svg.depgraph g.node').length;",
        vec![],
    );
    let edges = b.eval(
        "return document.querySelectorAll('svg.depgraph path.edge').length;",
        vec![],
    );
    assert_eq!((nodes, edges), (serde_json::json!(2), serde_json::json!(1)));
    assert!(b.exists("svg.depgraph g.node.success"));
    b.screenshot("chronos-jobs");
    b.open(&format!("{base}/ui/job?name=ui-hello"));
    b.screenshot("chronos-job");

    // Every page is valid HTML with labelled controls; then read-only without JavaScript.
    for p in [
        "/",
        "/ui/new",
        "/ui/job?name=ui-hello",
        "/ui/job?name=ui-child",
    ] {
        valid_page(&c, p, 200);
    }
    valid_page(&c, "/ui/job?name=nope", 404);
    // The error pages too (forms are posted raw: the UI reads the body as a form).
    for (path, form) in [("/ui/create", "json=%7Bnot"), ("/ui/run", "name=nope")] {
        let (s, body) = http("POST", c.port, path, Some(form)).expect("POST");
        assert_eq!(s, 400, "POST {path}: {body}");
        assert_eq!(html_problems(&body), Vec::<String>::new(), "POST {path}");
    }
    let (s, svg) = http("GET", c.port, "/ui/graph.svg", None).unwrap();
    assert!(
        s == 200 && svg.starts_with("<svg") && svg.contains("ui-child"),
        "{svg}"
    );
    let nojs = Browser::start_without_js();
    for (p, shot, needle) in [
        ("/", "chronos-jobs-nojs", "ui-child"),
        (
            "/ui/job?name=ui-hello",
            "chronos-job-nojs",
            "echo hello from the UI",
        ),
        ("/ui/new", "chronos-create-nojs", "Job definition"),
    ] {
        nojs.open(&format!("{base}{p}"));
        nojs.wait_for_text("main", needle, t);
        nojs.screenshot(shot);
        if p == "/" {
            assert!(
                nojs.exists("svg.depgraph g.node"),
                "the graph is drawn without JavaScript"
            );
        }
    }
    nojs.resize(390, 844);
    nojs.open(&format!("{base}/"));
    nojs.wait_for_text("main", "ui-child", t);
    nojs.screenshot("chronos-jobs-phone-width");

    // Disable, then delete the child (the confirmation box must be ticked).
    b.open(&format!("{base}/ui/job?name=ui-hello"));
    b.click("form[action='/ui/disable'] button");
    b.wait_for_text(".banner", "disabled", t);
    assert_eq!(c.job("ui-hello").unwrap()["disabled"], true);
    assert_eq!(count(&c, "ui-hello", "successCount"), 1, "counters kept");
    b.open(&format!("{base}/ui/job?name=ui-child"));
    b.click("#confirm-delete");
    b.click("form[action='/ui/delete'] button");
    b.wait_for_text(".banner", "Deleted ui-child", t);
    assert!(c.job("ui-child").is_none());
    assert!(c.job("ui-hello").is_some());

    // The list is live: a job created through the API appears without a reload.
    b.open(&format!("{base}/"));
    b.wait_for_text("#jobs", "ui-hello", t);
    b.eval("window.stillTheSamePage = true; return null;", vec![]);
    let live = r#"{"name": "ui-live", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT24H", "owner": "ops@example.com"}"#;
    let (s, _) = http("POST", c.port, "/v1/scheduler/iso8601", Some(live)).unwrap();
    assert_eq!(s, 204);
    b.wait_for_text("#jobs", "ui-live", Duration::from_secs(20));
    assert_eq!(
        b.eval("return window.stillTheSamePage === true;", vec![]),
        serde_json::json!(true),
        "the page was reloaded"
    );
    drop(cluster);
}
