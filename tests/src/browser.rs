//! A real headless Chromium for web UI tests, driven over WebDriver.
//!
//! [`Browser::start`] runs `/usr/bin/chromedriver` on a free loopback port and opens a
//! session of `/usr/bin/chromium` (headless, fresh profile in a temp dir, no network of its
//! own: no sync, component updates or QUIC). The client is `fantoccini`, a maintained W3C
//! WebDriver crate, with a plain-HTTP connector (chromedriver is on loopback, so no TLS
//! stack); its async calls run on a private current-thread runtime so tests stay
//! synchronous like the rest of `meseta_tests`. Everything is torn down on drop.
//!
//! Also here: [`html_problems`], the HTML validity check (html5ever parse errors, form
//! controls without a label), and [`screenshot_dir`] (`target/ui-screenshots/`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Chromium and chromedriver as Debian installs them (`scripts/setup.sh`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver server.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where tests write screenshots: `target/ui-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = crate::bin_dir()
        .parent()
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("create target/ui-screenshots");
    dir
}

/// A headless Chromium session.
#[derive(Debug)]
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// How to start the browser.
#[derive(Debug, Clone, Copy)]
pub struct BrowserOptions {
    /// Run page scripts (false: Chromium's JavaScript content setting blocks them).
    pub javascript: bool,
    /// Window width and height in CSS pixels.
    pub window: (u32, u32),
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            javascript: true,
            window: (1280, 900),
        }
    }
}

impl Browser {
    /// Starts chromedriver and a Chromium session with JavaScript on; panics with the reason
    /// when either is missing or does not come up.
    pub fn start() -> Browser {
        Browser::start_with(BrowserOptions::default())
    }

    /// A session with JavaScript disabled (pages must still render read-only).
    pub fn start_without_js() -> Browser {
        Browser::start_with(BrowserOptions {
            javascript: false,
            ..BrowserOptions::default()
        })
    }

    /// Starts a session with `opts`.
    pub fn start_with(opts: BrowserOptions) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/setup.sh"
        );
        let port = crate::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let up = crate::wait_until(Duration::from_secs(20), || {
            // chromedriver keeps connections open: read the body by its length (ureq).
            ureq::get(&format!("http://127.0.0.1:{port}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .is_some_and(|b| b.contains("\"ready\":true"))
        });
        let mut b = Browser {
            rt,
            client: None,
            driver,
            _profile: profile,
        };
        assert!(up, "chromedriver did not answer on port {port}");
        let caps = capabilities(opts, b._profile.path());
        let url = format!("http://127.0.0.1:{port}");
        let client =
            b.rt.block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url),
            )
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
        b.client = Some(client);
        b
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("session open")
    }

    /// Navigates to `url` and waits for the page load.
    pub fn open(&self, url: &str) {
        self.rt
            .block_on(self.c().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.rt
            .block_on(self.c().current_url())
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// The page's current DOM as HTML (after scripts ran).
    pub fn source(&self) -> String {
        self.rt.block_on(self.c().source()).unwrap_or_default()
    }

    /// The visible text of the whole page.
    pub fn page_text(&self) -> String {
        self.text("body").unwrap_or_default()
    }

    fn find(&self, css: &str) -> Option<Element> {
        self.rt.block_on(self.c().find(Locator::Css(css))).ok()
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> Option<String> {
        let el = self.find(css)?;
        self.rt.block_on(el.text()).ok()
    }

    /// Whether an element matches `css` now.
    pub fn exists(&self, css: &str) -> bool {
        self.find(css).is_some()
    }

    /// Clicks the first element matching `css` (waiting up to 10 s for it).
    pub fn click(&self, css: &str) {
        let el = self.wait_for(css, Duration::from_secs(10));
        self.rt
            .block_on(el.click())
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clears the field matching `css` and types `text` into it.
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_for(css, Duration::from_secs(10));
        self.rt
            .block_on(async {
                el.clear().await?;
                el.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Waits for an element matching `css`; panics with the page text after `timeout`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(el) = self.find(css) {
                return el;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {} after {timeout:?}; page text:\n{}",
                self.url(),
                self.page_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the text of the element matching `css` contains `needle`; returns the
    /// text, panics with what was there after `timeout`.
    pub fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text(css).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} did not appear in {css} on {} within {timeout:?}; it shows:\n{text}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.rt
            .block_on(self.c().execute(script, args))
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Accepts a `window.confirm`/`alert` dialog if one is open.
    pub fn accept_dialog(&self) {
        let _ = self.rt.block_on(self.c().accept_alert());
    }

    /// Resizes the window (e.g. 390×844 for a phone).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.c().set_window_size(width, height))
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }

    /// Writes a PNG of the viewport to `target/ui-screenshots/<name>.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.c().screenshot())
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            // Ends the session: chromedriver quits Chromium.
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), c.close()).await });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn capabilities(opts: BrowserOptions, profile: &std::path::Path) -> serde_json::Map<String, Value> {
    let (w, h) = opts.window;
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--window-size={w},{h}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    if !opts.javascript {
        args.push("--blink-settings=scriptEnabled=false".into());
    }
    let mut chrome = json!({ "binary": CHROMIUM, "args": args });
    if !opts.javascript {
        chrome["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), chrome);
    caps
}

/// What is wrong with an HTML document: every html5ever parse error (unclosed or misnested
/// tags, bad attributes, a missing doctype) and every form control that has no label (a
/// `<label for>`, an enclosing `<label>`, `aria-label` or `aria-labelledby`). Empty when the
/// page is valid by these rules.
pub fn html_problems(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut problems: Vec<String> = doc
        .errors
        .iter()
        .map(|e| format!("parse error: {e}"))
        .collect();
    let controls = scraper::Selector::parse("input, select, textarea").expect("selector");
    let labels = scraper::Selector::parse("label[for]").expect("selector");
    let targets: Vec<&str> = doc
        .select(&labels)
        .filter_map(|l| l.value().attr("for"))
        .collect();
    for el in doc.select(&controls) {
        let v = el.value();
        if matches!(
            v.attr("type"),
            Some("hidden" | "submit" | "button" | "reset" | "image")
        ) {
            continue;
        }
        let labelled = v.attr("aria-label").is_some()
            || v.attr("aria-labelledby").is_some()
            || v.id().is_some_and(|id| targets.contains(&id))
            || el
                .ancestors()
                .filter_map(scraper::ElementRef::wrap)
                .any(|a| a.value().name() == "label");
        if !labelled {
            problems.push(format!("form control without a label: {}", el.html()));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unlabelled_controls_and_parse_errors() {
        let ok = "<!DOCTYPE html><html lang=en><head><title>t</title></head><body>\
                  <form><label>Name <input name=a></label><label for=b>B</label>\
                  <input id=b><input type=hidden name=c></form></body></html>";
        assert_eq!(html_problems(ok), Vec::<String>::new());
        let bad = "<!DOCTYPE html><html><head><title>t</title></head><body>\
                   <form><input name=a></form><div></span></body></html>";
        let p = html_problems(bad);
        assert!(p.iter().any(|m| m.contains("without a label")), "{p:?}");
        assert!(p.iter().any(|m| m.starts_with("parse error")), "{p:?}");
    }
}
