//! Marathon's web UI in a real headless Chromium against a real master and agent: create an
//! app from JSON, scale it, see the API's message for bad input (malformed JSON, a scale to
//! -1), compare two versions, kill a task, suspend and destroy it, each checked through
//! `/v2/apps`. Every page is valid HTML, renders read-only with JavaScript disabled, and is
//! screenshotted into `target/ui-screenshots/`.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::time::Duration;

use meseta_tests::browser::{html_problems, Browser};
use meseta_tests::{http, root_or_skip, wait_until, Cluster};
use support::{resources, Marathon};

const APP: &str = "/ui-test/web";
const APP_Q: &str = "%2Fui-test%2Fweb";

fn app(m: &Marathon) -> serde_json::Value {
    m.get(&format!("/v2/apps{APP}"))
        .map_or(serde_json::Value::Null, |v| v["app"].clone())
}

/// The raw server HTML of `path` is valid and labelled; returns it.
fn valid_page(m: &Marathon, path: &str, status: u16) -> String {
    let (s, body) = http("GET", m.port, path, None).expect("GET");
    assert_eq!(s, status, "GET {path}: {body}");
    assert_eq!(html_problems(&body), Vec::<String>::new(), "GET {path}");
    body
}

#[test]
fn create_scale_and_destroy_an_app_in_the_browser() {
    if !root_or_skip("create_scale_and_destroy_an_app_in_the_browser") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let m = Marathon::start(
        &master,
        &["--internal_store_backend=mem".into()],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let b = Browser::start();
    let t = Duration::from_secs(60);

    b.open(&format!("{}/", m.url()));
    b.wait_for_text("main", "No apps", t);
    b.screenshot("marathon-apps-empty");

    // Malformed JSON: the API's own 400 message, and the typed text kept.
    b.click("a[href='/ui/new'].button");
    b.type_into("#app-json", r#"{"id": "/ui-test/web", "cmd": "sleep 1000""#);
    b.click("form[action='/ui/create'] button");
    let banner = b.wait_for_text(".banner", "400", t);
    let (_, api) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id": "/ui-test/web", "cmd": "sleep 1000""#),
    );
    let api_msg = api["message"].as_str().expect("API message").to_owned();
    assert!(
        banner.contains(&api_msg),
        "banner {banner:?} lacks the API's {api_msg:?}"
    );
    assert!(b
        .text("#app-json")
        .unwrap_or_default()
        .contains("sleep 1000"));
    b.screenshot("marathon-create-malformed-json");
    assert_eq!(m.get("/v2/apps").unwrap()["apps"], serde_json::json!([]));

    // A valid definition creates the app; the browser lands on its page.
    b.type_into(
        "#app-json",
        r#"{"id": "/ui-test/web", "cmd": "sleep 1000", "cpus": 0.05, "mem": 16, "instances": 1}"#,
    );
    b.click("form[action='/ui/create'] button");
    b.wait_for_text("h1", APP, t);
    assert_eq!(app(&m)["instances"], 1, "created through /v2");
    assert!(
        wait_until(t, || app(&m)["tasksRunning"] == 1),
        "the task did not run: {}",
        m.logs()
    );

    // Scale to 2 through the form.
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.type_into("#instances", "2");
    b.click("form[action='/ui/scale'] button");
    b.wait_for_text(".banner", "Scaling to 2", t);
    assert_eq!(app(&m)["instances"], 2);
    assert!(
        wait_until(t, || app(&m)["tasksRunning"] == 2),
        "{}",
        m.logs()
    );

    // The apps list shows both running (its table refreshes itself).
    b.open(&format!("{}/", m.url()));
    b.wait_for_text("#apps tbody tr td:nth-child(3)", "2", t);
    b.screenshot("marathon-apps");

    // Scale to -1: the API's 422 message, and nothing changed.
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.type_into("#instances", "-1");
    b.click("form[action='/ui/scale'] button");
    let banner = b.wait_for_text(".banner", "422", t);
    assert!(
        banner.contains("/instances") && banner.contains("expected 0 or more"),
        "{banner}"
    );
    b.screenshot("marathon-scale-negative");
    assert_eq!(app(&m)["instances"], 2);

    // Versions: the diff shows the instances change.
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.screenshot("marathon-app");
    b.click("form[action='/ui/diff'] button");
    let diff = b.wait_for_text("pre.diff", "instances", t);
    assert!(
        b.text("pre.diff ins")
            .unwrap_or_default()
            .contains("\"instances\": 2"),
        "{diff}"
    );
    b.screenshot("marathon-version-diff");
    let diff_url = b.url();

    // Kill one task (not scaling): it is replaced.
    let before: Vec<String> = app(&m)["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.click("form[action='/ui/kill'] button");
    b.wait_for_text(".banner", "Killing", t);
    assert!(
        wait_until(t, || {
            let a = app(&m);
            let ids: Vec<&str> = a["tasks"]
                .as_array()
                .map(|v| v.iter().filter_map(|t| t["id"].as_str()).collect())
                .unwrap_or_default();
            a["tasksRunning"] == 2
                && ids
                    .iter()
                    .filter(|i| before.iter().any(|b| b == *i))
                    .count()
                    == 1
        }),
        "the killed task was not replaced: {}",
        m.logs()
    );

    // Restart: every task is replaced.
    let ids = |a: &serde_json::Value| -> Vec<String> {
        a["tasks"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|t| t["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = ids(&app(&m));
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.click("form[action='/ui/restart'] button");
    b.wait_for_text(".banner", "Restart started", t);
    assert!(
        wait_until(t, || {
            let a = app(&m);
            a["tasksRunning"] == 2
                && ids(&a).iter().all(|i| !before.contains(i))
                && a["deployments"].as_array().is_some_and(Vec::is_empty)
        }),
        "the restart did not replace the tasks: {}",
        m.logs()
    );

    // Every page is valid HTML with labelled controls; then read-only without JavaScript.
    let id_q = format!("/ui/app?id={APP_Q}");
    let diff_path = diff_url.trim_start_matches(&m.url()).to_owned();
    let pages = ["/", "/ui/new", id_q.as_str(), diff_path.as_str()];
    for p in pages {
        valid_page(&m, p, 200);
    }
    valid_page(&m, "/ui/app?id=%2Fnope", 404);
    // The error pages too (forms are posted raw: the UI reads the body as a form).
    for (path, form, status) in [
        ("/ui/scale", format!("id={APP_Q}&instances=-1"), 422),
        ("/ui/create", "json=%7B%22id%22".to_owned(), 400),
        ("/ui/destroy", format!("id={APP_Q}"), 400),
    ] {
        let (s, body) = http("POST", m.port, path, Some(&form)).expect("POST");
        assert_eq!(s, status, "POST {path}: {body}");
        assert_eq!(html_problems(&body), Vec::<String>::new(), "POST {path}");
    }
    let nojs = Browser::start_without_js();
    for (p, shot, needle) in [
        ("/", "marathon-apps-nojs", APP),
        (id_q.as_str(), "marathon-app-nojs", "TASK_RUNNING"),
        (
            diff_path.as_str(),
            "marathon-version-diff-nojs",
            "instances",
        ),
        ("/ui/new", "marathon-create-nojs", "App definition"),
    ] {
        nojs.open(&format!("{}{p}", m.url()));
        nojs.wait_for_text("main", needle, t);
        nojs.screenshot(shot);
    }
    nojs.resize(390, 844);
    nojs.open(&format!("{}{id_q}", m.url()));
    nojs.wait_for_text("main", "TASK_RUNNING", t);
    nojs.screenshot("marathon-app-phone-width");

    // A deployment that cannot finish (new tasks need more memory than the agent has) locks
    // the app: suspending shows the API's 409 and offers to force it.
    let (s, _) = m.call("PUT", &format!("/v2/apps{APP}"), Some(r#"{"mem": 4096}"#));
    assert_eq!(s, 200);
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.click("form[action='/ui/suspend'] button");
    let banner = b.wait_for_text(".banner", "409", t);
    assert!(
        banner.contains("locked by one or more deployments"),
        "{banner}"
    );
    b.screenshot("marathon-locked-by-deployment");
    b.click("form[action='/ui/suspend'] button.danger");
    b.wait_for_text(".banner", "Suspending", t);
    assert_eq!(app(&m)["instances"], 0);
    let settled = |a: serde_json::Value| {
        a["tasksRunning"] == 0 && a["deployments"].as_array().is_some_and(Vec::is_empty)
    };
    assert!(wait_until(t, || settled(app(&m))), "{}", m.logs());

    // Destroy (the confirmation box must be ticked).
    b.open(&format!("{}/ui/app?id={APP_Q}", m.url()));
    b.click("#confirm-destroy");
    b.click("form[action='/ui/destroy'] button");
    b.wait_for_text(".banner", "Destroying", t);
    assert!(
        wait_until(t, || m.call("GET", &format!("/v2/apps{APP}"), None).0
            == 404),
        "the app is still there: {}",
        m.logs()
    );
    b.wait_for_text("main", "No apps", t);

    // The list is live: an app created through the API appears without a reload.
    b.eval("window.stillTheSamePage = true; return null;", vec![]);
    let (s, _) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id": "/ui-test/live", "cmd": "sleep 1000", "instances": 0}"#),
    );
    assert_eq!(s, 201);
    b.wait_for_text("#apps", "/ui-test/live", Duration::from_secs(20));
    assert_eq!(
        b.eval("return window.stillTheSamePage === true;", vec![]),
        serde_json::json!(true),
        "the page was reloaded"
    );
    drop(cluster);
}
