//! The HAProxy configuration for a set of services: upstream marathon-lb's `config()` and
//! `generateHttpVhostAcl()` (marathon_lb.py), template for template, so that existing label
//! and template overrides produce the same text.
//!
//! Every line remembers which service produced it ([`Generated::owner_of_line`]), so that when
//! `haproxy -c` rejects a line the app behind it can be left out and the rest still served.

use std::collections::HashSet;

use sha2::Digest;

use crate::apps::{HealthCheck, Service, Skipped};
use crate::format::format;
use crate::templates::Templater;

/// How the configuration is generated (the flags that shape it).
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// `--group`s served (`*` for all).
    pub groups: Vec<String>,
    /// Not `--dont-bind-http-https`.
    pub bind_http_https: bool,
    /// `--ssl-certs`, comma-separated.
    pub ssl_certs: String,
    /// `--haproxy-map`.
    pub haproxy_map: bool,
    /// The directory of `--haproxy-config` (for map files).
    pub haproxy_dir: String,
    /// Where marathon-lb's control listener is (for the `marathon_lb_control` backend).
    pub control_addr: String,
}

/// A generated configuration.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The configuration text.
    pub text: String,
    /// For each line of `text`, the app id of the service that produced it.
    pub owners: Vec<Option<String>>,
    /// `domain2backend.map` entries (with `--haproxy-map`).
    pub domain_map: Vec<(String, String)>,
    /// `app2backend.map` entries (with `--haproxy-map`).
    pub app_map: Vec<(String, String)>,
    /// Services left out while generating (a template override that does not fill in).
    pub skipped: Vec<Skipped>,
}

impl Generated {
    /// The app that produced line `line` (1-based, as HAProxy reports it).
    pub fn owner_of_line(&self, line: usize) -> Option<&str> {
        self.owners.get(line.checked_sub(1)?)?.as_deref()
    }
}

/// `domain2backend` and `app2backend` map entries.
type Maps = (Vec<(String, String)>, Vec<(String, String)>);

#[derive(Default)]
struct Parts {
    userlists: Vec<(String, String)>,
    http: Vec<(i64, String, String)>,
    https: Vec<(i64, String, String)>,
    appid: Vec<(String, String)>,
    frontends: Vec<(String, String)>,
    backends: Vec<(String, String)>,
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Upstream's `calculate_server_id`: a stable id in 1..=32767 from the server name.
fn server_id(name: &str, taken: &mut HashSet<u32>) -> u32 {
    let mut name = name.to_owned();
    loop {
        let sum = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        // The whole hash modulo 32767, computed digit by digit (it is 256 bits).
        let id = sum
            .chars()
            .filter_map(|c| c.to_digit(16))
            .fold(0u32, |acc, d| (acc * 16 + d) % 32767);
        if id > 0 && taken.insert(id) {
            return id;
        }
        name = format!("{name} {sum}");
    }
}

fn has_group(groups: &[String], app_groups: &[String]) -> bool {
    groups.iter().any(|g| g == "*") || app_groups.iter().any(|g| groups.contains(g))
}

fn health_values(h: &HealthCheck, port: Option<u64>) -> Vec<(&'static str, String)> {
    vec![
        (
            "healthCheckPortIndex",
            h.port_index
                .map(|p| p.to_string())
                .unwrap_or_else(|| "None".into()),
        ),
        (
            "healthCheckPort",
            port.map(|p| p.to_string()).unwrap_or_else(|| "None".into()),
        ),
        ("healthCheckProtocol", h.protocol.clone()),
        ("healthCheckPath", h.path.clone()),
        ("healthCheckTimeoutSeconds", h.timeout_seconds.to_string()),
        ("healthCheckIntervalSeconds", h.interval_seconds.to_string()),
        (
            "healthCheckGracePeriodSeconds",
            h.grace_period_seconds.to_string(),
        ),
        (
            "healthCheckMaxConsecutiveFailures",
            h.max_consecutive_failures.to_string(),
        ),
        (
            "healthCheckFalls",
            (h.max_consecutive_failures + 1).to_string(),
        ),
        (
            "healthCheckPortOptions",
            port.map(|p| format!(" port {p}")).unwrap_or_default(),
        ),
    ]
}

fn fill(t: &str, values: &[(&str, String)]) -> Result<String, String> {
    let v: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    format(t, &v).map_err(|e| e.to_string())
}

/// Generates the configuration for `services` (sorted by app id and port, as upstream).
pub fn generate(services: &[Service], t: &Templater, o: &GenOptions) -> Generated {
    let mut services: Vec<&Service> = services.iter().collect();
    services.sort_by(|a, b| (&a.app_id, a.service_port).cmp(&(&b.app_id, b.service_port)));
    let mut parts = Parts::default();
    let mut gen = Generated::default();
    let mut appid_done = HashSet::new();
    let mut map_once = HashSet::new();
    for s in services {
        let app_groups = if s.port_groups.is_empty() {
            &s.groups
        } else {
            &s.port_groups
        };
        if !has_group(&o.groups, app_groups) || !s.enabled {
            continue;
        }
        if s.backends.is_empty() {
            continue;
        }
        let mut local = Parts::default();
        let mut maps = (Vec::new(), Vec::new());
        match service_parts(
            s,
            t,
            o,
            &mut local,
            &mut maps,
            &mut appid_done,
            &mut map_once,
        ) {
            Ok(()) => {
                parts.userlists.append(&mut local.userlists);
                parts.http.append(&mut local.http);
                parts.https.append(&mut local.https);
                parts.appid.append(&mut local.appid);
                parts.frontends.append(&mut local.frontends);
                parts.backends.append(&mut local.backends);
                gen.domain_map.append(&mut maps.0);
                gen.app_map.append(&mut maps.1);
            }
            Err(reason) => {
                tracing::warn!(app = %s.app_id, port = s.service_port, %reason, "service left out of the HAProxy configuration");
                gen.skipped.push(Skipped {
                    app_id: s.app_id.clone(),
                    reason,
                });
            }
        }
    }
    parts.http.sort_by_key(|p| std::cmp::Reverse(p.0));
    parts.https.sort_by_key(|p| std::cmp::Reverse(p.0));
    let ssl_certs = if o.ssl_certs.is_empty() {
        "/etc/ssl/cert.pem"
    } else {
        &o.ssl_certs
    };
    let certs: Vec<String> = ssl_certs.split(',').map(|c| format!("crt {c}")).collect();

    let mut push = |text: &str, owner: Option<&str>| {
        gen.text.push_str(text);
        for _ in 0..text.matches('\n').count() {
            gen.owners.push(owner.map(str::to_owned));
        }
    };
    push(t.global("HEAD"), None);
    for (owner, text) in &parts.userlists {
        push(text, Some(owner));
    }
    if o.bind_http_https {
        push(t.global("HTTP_FRONTEND_HEAD"), None);
        for (_, owner, text) in &parts.http {
            push(text, Some(owner));
        }
    }
    push(t.global("HTTP_FRONTEND_APPID_HEAD"), None);
    for (owner, text) in &parts.appid {
        push(text, Some(owner));
    }
    if o.bind_http_https {
        let head = format(
            t.global("HTTPS_FRONTEND_HEAD"),
            &[("sslCerts", &certs.join(" "))],
        )
        .unwrap_or_else(|_| t.global("HTTPS_FRONTEND_HEAD").to_owned());
        push(&head, None);
        for (_, owner, text) in &parts.https {
            push(text, Some(owner));
        }
    }
    for (owner, text) in &parts.frontends {
        push(text, Some(owner));
    }
    for (owner, text) in &parts.backends {
        push(text, Some(owner));
    }
    if t.global("HEAD").contains("marathon_lb_control") {
        push(
            &format!(
                "\nbackend marathon_lb_control\n  mode http\n  server control {}\n",
                o.control_addr
            ),
            None,
        );
    }
    gen
}

#[allow(clippy::too_many_arguments)]
fn service_parts(
    s: &Service,
    t: &Templater,
    o: &GenOptions,
    out: &mut Parts,
    maps: &mut Maps,
    appid_done: &mut HashSet<String>,
    map_once: &mut HashSet<&'static str>,
) -> Result<(), String> {
    let id = s.app_id.clone();
    let n = s.index;
    let l = &s.labels;
    let backend = s.backend_name();
    let mode = s
        .mode
        .clone()
        .unwrap_or_else(|| if s.hostname.is_some() { "http" } else { "tcp" }.to_owned());
    let mut weight = s.backend_weight;
    if let Some((_, user, pass)) = &s.auth {
        let text = fill(
            t.for_port("USERLIST_HEAD", n, l),
            &[
                ("backend", backend.clone()),
                ("user", user.clone()),
                ("passwd", pass.clone()),
            ],
        )?;
        out.userlists.push((id.clone(), text));
    }
    let mut frontend = fill(
        t.for_port("FRONTEND_HEAD", n, l),
        &[
            ("bindAddr", s.bind_addr.clone()),
            ("backend", backend.clone()),
            ("servicePort", s.service_port.to_string()),
            ("mode", mode.clone()),
            (
                "sslCert",
                s.ssl_cert
                    .as_ref()
                    .map(|c| format!(" ssl crt {c}"))
                    .unwrap_or_default(),
            ),
            (
                "bindOptions",
                s.bind_options
                    .as_ref()
                    .map(|b| format!(" {b}"))
                    .unwrap_or_default(),
            ),
        ],
    )?;
    let mut back = fill(
        t.for_port("BACKEND_HEAD", n, l),
        &[
            ("backend", backend.clone()),
            ("balance", s.balance.clone()),
            ("mode", mode.clone()),
        ],
    )?;

    if o.bind_http_https {
        if let Some(hostname) = &s.hostname {
            let (http, https) =
                vhost_acls(s, t, o, &backend, hostname, &mut weight, maps, map_once)?;
            out.http.push((weight, id.clone(), http));
            out.https.push((weight, id.clone(), https));
        }
    }
    if mode == "http" && appid_done.insert(s.app_id.clone()) {
        if o.haproxy_map {
            if map_once.insert("appid") {
                out.appid.push((
                    id.clone(),
                    fill(
                        t.for_port("MAP_HTTP_FRONTEND_APPID_ACL", n, l),
                        &[("haproxy_dir", o.haproxy_dir.clone())],
                    )?,
                ));
            }
            maps.1.push((s.app_id.clone(), backend.clone()));
        } else {
            out.appid.push((
                id.clone(),
                fill(
                    t.for_port("HTTP_FRONTEND_APPID_ACL", n, l),
                    &[
                        ("cleanedUpAppId", clean(&s.app_id)),
                        ("hostname", s.hostname.clone().unwrap_or_default()),
                        ("appId", s.app_id.clone()),
                        ("backend", backend.clone()),
                    ],
                )?,
            ));
        }
    }
    if mode == "http" {
        if s.use_hsts {
            back.push_str(t.for_port("BACKEND_HSTS_OPTIONS", n, l));
        }
        back.push_str(t.for_port("BACKEND_HTTP_OPTIONS", n, l));
        if let Some(redir) = &s.redirpath {
            back.push_str(&fill(
                t.for_port("HTTP_BACKEND_REDIR", n, l),
                &[
                    ("hostname", s.hostname.clone().unwrap_or_default()),
                    ("redirpath", redir.clone()),
                ],
            )?);
        }
    }
    if let Some(nets) = &s.network_allowed {
        let (acl, allow) = if mode == "http" {
            (
                "HTTP_BACKEND_NETWORK_ALLOWED_ACL",
                "HTTP_BACKEND_ACL_ALLOW_DENY",
            )
        } else {
            (
                "TCP_BACKEND_NETWORK_ALLOWED_ACL",
                "TCP_BACKEND_ACL_ALLOW_DENY",
            )
        };
        for net in nets.split_whitespace() {
            back.push_str(&fill(
                t.for_port(acl, n, l),
                &[("network_allowed", net.to_owned())],
            )?);
        }
        back.push_str(t.global(allow));
    }
    if s.sticky {
        back.push_str(t.for_port("BACKEND_STICKY_OPTIONS", n, l));
    }
    frontend.push_str(&fill(
        t.for_port("FRONTEND_BACKEND_GLUE", n, l),
        &[("backend", backend.clone())],
    )?);

    let tcp_check =
        |h: &HealthCheck| mode == "tcp" || h.protocol == "TCP" || h.protocol == "MESOS_TCP";
    let (backend_check, server_check) = match &s.health_check {
        Some(h) if tcp_check(h) => (
            Some("BACKEND_TCP_HEALTHCHECK_OPTIONS"),
            Some("BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS"),
        ),
        Some(_) if mode == "http" => (
            Some("BACKEND_HTTP_HEALTHCHECK_OPTIONS"),
            Some("BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS"),
        ),
        _ => (None, None),
    };
    if let (Some(h), Some(name)) = (&s.health_check, backend_check) {
        back.push_str(&fill(t.for_port(name, n, l), &health_values(h, h.port))?);
    }
    let mut taken = HashSet::new();
    for b in &s.backends {
        let server_name = if b.host != b.ip {
            clean(&format!("{}_{}_{}", b.host, b.ip, b.port))
        } else {
            clean(&format!("{}_{}", b.ip, b.port))
        };
        let short = {
            use sha1::Digest as _;
            hex::encode(sha1::Sha1::digest(server_name.as_bytes()))[..10].to_owned()
        };
        let sid = server_id(&server_name, &mut taken);
        let check = match (&s.health_check, server_check) {
            (Some(h), Some(name)) => {
                let port = if s.healthcheck_port_index.is_some() {
                    Some(u64::from(b.port))
                } else {
                    h.port
                };
                fill(t.for_port(name, n, l), &health_values(h, port))?
            }
            _ => String::new(),
        };
        back.push_str(&fill(
            t.for_port("BACKEND_SERVER_OPTIONS", n, l),
            &[
                ("host", b.host.clone()),
                ("host_ipv4", b.ip.clone()),
                ("port", b.port.to_string()),
                ("serverName", server_name),
                ("serverId", sid.to_string()),
                (
                    "cookieOptions",
                    if s.sticky {
                        format!(" check cookie {short}")
                    } else {
                        String::new()
                    },
                ),
                // Upstream strips the template and puts one blank before it.
                (
                    "healthCheckOptions",
                    if check.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" {}", check.trim())
                    },
                ),
                (
                    "otherOptions",
                    if b.draining {
                        " disabled".into()
                    } else {
                        String::new()
                    },
                ),
            ],
        )?);
    }
    out.frontends.push((id.clone(), frontend));
    out.backends.push((id, back));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn vhost_acls(
    s: &Service,
    t: &Templater,
    o: &GenOptions,
    backend: &str,
    hostname: &str,
    weight: &mut i64,
    maps: &mut Maps,
    map_once: &mut HashSet<&'static str>,
) -> Result<(String, String), String> {
    let n = s.index;
    let l = &s.labels;
    let vhosts: Vec<&str> = hostname.split(',').filter(|h| !h.is_empty()).collect();
    let mut http = String::new();
    let mut https = String::new();
    let realm = s.auth.as_ref().map(|a| a.0.clone());
    for host in &vhosts {
        // Upstream names the ACL after the first vhost and the app, for one vhost or several.
        let acl = format!(
            "{}_{}",
            clean(vhosts[0]),
            s.app_id.trim_start_matches('/').replace('/', "_")
        );
        let v = vec![
            ("cleanedUpHostname", acl.clone()),
            ("hostname", (*host).to_owned()),
            ("backend", backend.to_owned()),
            ("path", s.path.clone().unwrap_or_default()),
            ("realm", realm.clone().unwrap_or_default()),
            ("appId", s.app_id.clone()),
            ("haproxy_dir", o.haproxy_dir.clone()),
        ];
        let plain = s.path.is_none() && realm.is_none() && !s.redirect_to_https;
        if o.haproxy_map && plain {
            if map_once.insert("http") {
                *weight = -1;
                http.push_str(&fill(t.for_port("MAP_HTTP_FRONTEND_ACL", n, l), &v)?);
            }
            if map_once.insert("https") {
                https.push_str(&fill(t.for_port("MAP_HTTPS_FRONTEND_ACL", n, l), &v)?);
            }
            maps.0.push(((*host).to_owned(), backend.to_owned()));
            continue;
        }
        let (h, hs) = match (&s.path, &realm, s.redirect_to_https) {
            (Some(_), _, true) => (
                vec![
                    "HTTP_FRONTEND_ACL_ONLY",
                    "HTTP_FRONTEND_ACL_ONLY_WITH_PATH",
                    "BACKEND_REDIRECT_HTTP_TO_HTTPS_WITH_PATH",
                ],
                "HTTPS_FRONTEND_ACL_WITH_PATH",
            ),
            (None, _, true) => (
                vec!["HTTP_FRONTEND_ACL", "BACKEND_REDIRECT_HTTP_TO_HTTPS"],
                "HTTPS_FRONTEND_ACL",
            ),
            (Some(_), Some(_), false) => (
                vec!["HTTP_FRONTEND_ACL_WITH_AUTH_AND_PATH"],
                "HTTPS_FRONTEND_ACL_WITH_PATH",
            ),
            (Some(_), None, false) => (
                vec!["HTTP_FRONTEND_ACL_WITH_PATH"],
                "HTTPS_FRONTEND_ACL_WITH_PATH",
            ),
            (None, Some(_), false) => (
                vec!["HTTP_FRONTEND_ACL_WITH_AUTH"],
                "HTTPS_FRONTEND_ACL_WITH_AUTH",
            ),
            (None, None, false) => (vec!["HTTP_FRONTEND_ACL"], "HTTPS_FRONTEND_ACL"),
        };
        for name in h {
            http.push_str(&fill(t.for_port(name, n, l), &v)?);
        }
        if s.path.is_some() {
            https.push_str(&fill(
                t.for_port("HTTP_FRONTEND_ACL_ONLY_WITH_PATH", n, l),
                &v,
            )?);
        }
        https.push_str(&fill(t.for_port(hs, n, l), &v)?);
    }
    Ok((http, https))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::apps::Backend;

    fn service(id: &str, port: u16) -> Service {
        Service {
            app_id: id.into(),
            index: 0,
            service_port: port,
            backends: BTreeSet::new(),
            hostname: None,
            path: None,
            auth: None,
            sticky: false,
            enabled: true,
            redirect_to_https: false,
            use_hsts: false,
            ssl_cert: None,
            bind_options: None,
            bind_addr: "*".into(),
            groups: vec!["external".into()],
            port_groups: vec![],
            mode: None,
            balance: "roundrobin".into(),
            health_check: None,
            labels: HashMap::new(),
            backend_weight: 0,
            network_allowed: None,
            healthcheck_port_index: None,
            redirpath: None,
        }
    }

    fn opts() -> GenOptions {
        GenOptions {
            groups: vec!["external".into()],
            bind_http_https: true,
            ssl_certs: String::new(),
            haproxy_map: false,
            haproxy_dir: "/etc/haproxy".into(),
            control_addr: "127.0.0.1:9089".into(),
        }
    }

    /// Upstream's `test_config_simple_app` (tests/test_marathon_lb.py), byte for byte after
    /// the head.
    #[test]
    fn a_simple_app_gives_upstreams_configuration() {
        let mut s = service("/nginx", 10000);
        s.mode = Some("http".into());
        s.health_check = Some(HealthCheck {
            protocol: "HTTP".into(),
            path: "/".into(),
            port_index: Some(0),
            port: None,
            timeout_seconds: 10,
            interval_seconds: 2,
            grace_period_seconds: 10,
            max_consecutive_failures: 10,
        });
        s.backends.insert(Backend {
            host: "agent1".into(),
            ip: "1.1.1.1".into(),
            port: 1024,
            draining: false,
        });
        let t = Templater::load(
            &|k| (k == "HAPROXY_HEAD").then(|| "HEAD\n".to_owned()),
            None,
        );
        let gen = generate(&[s], &t, &opts());
        let expected = "HEAD

frontend marathon_http_in
  bind *:80
  mode http

frontend marathon_http_appid_in
  bind *:9091
  mode http
  acl app__nginx hdr(x-marathon-app-id) -i /nginx
  use_backend nginx_10000 if app__nginx

frontend marathon_https_in
  bind *:443 ssl crt /etc/ssl/cert.pem
  mode http

frontend nginx_10000
  bind *:10000
  mode http
  use_backend nginx_10000

backend nginx_10000
  balance roundrobin
  mode http
  option forwardfor
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request add-header X-Forwarded-Proto https if { ssl_fc }
  option  httpchk GET /
  timeout check 10s
  server agent1_1_1_1_1_1024 1.1.1.1:1024 id 28363 check inter 2s fall 11
";
        assert_eq!(gen.text, expected);
        let line = gen
            .text
            .lines()
            .position(|l| l.contains("server agent1"))
            .unwrap()
            + 1;
        assert_eq!(gen.owner_of_line(line), Some("/nginx"));
        assert_eq!(gen.owner_of_line(1), None);
    }

    /// Upstream's `test_config_simple_app_vhost`.
    #[test]
    fn a_vhost_app_gives_upstreams_configuration() {
        let mut s = service("/nginx", 10000);
        s.mode = Some("http".into());
        s.hostname = Some("test.example.com".into());
        s.health_check = Some(HealthCheck {
            protocol: "HTTP".into(),
            path: "/".into(),
            port_index: Some(0),
            port: None,
            timeout_seconds: 10,
            interval_seconds: 2,
            grace_period_seconds: 10,
            max_consecutive_failures: 10,
        });
        s.backends.insert(Backend {
            host: "agent1".into(),
            ip: "1.1.1.1".into(),
            port: 1024,
            draining: false,
        });
        let t = Templater::load(
            &|k| (k == "HAPROXY_HEAD").then(|| "HEAD\\n".to_owned()),
            None,
        );
        let gen = generate(&[s], &t, &opts());
        let expected = "HEAD

frontend marathon_http_in
  bind *:80
  mode http
  acl host_test_example_com_nginx hdr(host) -i test.example.com
  use_backend nginx_10000 if host_test_example_com_nginx

frontend marathon_http_appid_in
  bind *:9091
  mode http
  acl app__nginx hdr(x-marathon-app-id) -i /nginx
  use_backend nginx_10000 if app__nginx

frontend marathon_https_in
  bind *:443 ssl crt /etc/ssl/cert.pem
  mode http
  use_backend nginx_10000 if { ssl_fc_sni test.example.com }

frontend nginx_10000
  bind *:10000
  mode http
  use_backend nginx_10000

backend nginx_10000
  balance roundrobin
  mode http
  option forwardfor
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request add-header X-Forwarded-Proto https if { ssl_fc }
  option  httpchk GET /
  timeout check 10s
  server agent1_1_1_1_1_1024 1.1.1.1:1024 id 28363 check inter 2s fall 11
";
        assert_eq!(gen.text, expected);
    }

    #[test]
    fn a_template_override_that_does_not_fill_in_leaves_only_its_app_out() {
        let mut bad = service("/bad", 10001);
        bad.labels
            .insert("HAPROXY_0_BACKEND_HEAD".into(), "backend {nope}\n".into());
        bad.backends.insert(Backend {
            host: "h".into(),
            ip: "1.1.1.1".into(),
            port: 1,
            draining: false,
        });
        let mut good = service("/good", 10002);
        good.backends.insert(Backend {
            host: "h".into(),
            ip: "1.1.1.1".into(),
            port: 2,
            draining: false,
        });
        let gen = generate(&[bad, good], &Templater::defaults(), &opts());
        assert!(gen.text.contains("backend good_10002"));
        assert!(!gen.text.contains("bad_10001"));
        assert_eq!(gen.skipped.len(), 1);
        assert_eq!(gen.skipped[0].app_id, "/bad");
    }
}
