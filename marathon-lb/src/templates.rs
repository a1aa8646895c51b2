//! The HAProxy configuration templates, named and written as upstream marathon-lb's
//! `config.py` has them (`HAPROXY_HEAD`, `HAPROXY_FRONTEND_HEAD`, …), with the same override
//! order: an environment variable `HAPROXY_<NAME>` (with `\n` escapes), else a file
//! `<templates dir>/HAPROXY_<NAME>`, else the default; and, for the overridable ones, an app
//! label `HAPROXY_{n}_<NAME>` for service port `n`.
//!
//! Differences from upstream, each forced by HAProxy 2.6 or by what we ship:
//! - `HEAD` has no `lua-load` lines (we ship no Lua); `/_mlb_signal/*` and `/_mlb_metrics` on
//!   the stats port are routed to marathon-lb's own control listener instead.
//! - `BACKEND_HSTS_OPTIONS` uses `http-response set-header` (`rspadd` was removed in 2.1).

use std::collections::HashMap;
use std::path::Path;

/// One template: its default text and whether an app label may override it.
#[derive(Debug, Clone)]
struct Template {
    value: String,
    overridable: bool,
}

/// Every template by name (without the `HAPROXY_` prefix).
#[derive(Debug, Clone)]
pub struct Templater {
    t: HashMap<&'static str, Template>,
}

const HEAD: &str = "\
global
  log /dev/log local0
  log /dev/log local1 notice
  spread-checks 5
  max-spread-checks 15000
  maxconn 50000
  tune.ssl.default-dh-param 2048
  ssl-default-bind-options no-sslv3 no-tlsv10 no-tls-tickets
  ssl-default-server-options no-sslv3 no-tlsv10 no-tls-tickets
  stats socket /var/run/haproxy/socket mode 600 level admin expose-fd listeners
  hard-stop-after 60s
defaults
  log               global
  retries                   3
  backlog               10000
  maxconn               10000
  timeout connect          3s
  timeout client          30s
  timeout server          30s
  timeout tunnel        3600s
  timeout http-keep-alive  1s
  timeout http-request    15s
  timeout queue           30s
  timeout tarpit          60s
  option            dontlognull
  option            http-server-close
  option            redispatch
listen stats
  bind 0.0.0.0:9090
  balance
  mode http
  stats enable
  http-request use-service prometheus-exporter if { path /metrics }
  monitor-uri /_haproxy_health_check
  use_backend marathon_lb_control if { path_beg /_mlb_signal/ } || { path /_mlb_metrics }
";

/// (name, default, overridable by an app label)
const DEFAULTS: &[(&str, &str, bool)] = &[
    ("HEAD", HEAD, false),
    ("USERLIST_HEAD", "\nuserlist user_{backend}\n  user {user} password {passwd}\n", true),
    ("HTTP_FRONTEND_HEAD", "\nfrontend marathon_http_in\n  bind *:80\n  mode http\n", false),
    (
        "HTTP_FRONTEND_APPID_HEAD",
        "\nfrontend marathon_http_appid_in\n  bind *:9091\n  mode http\n",
        false,
    ),
    (
        "HTTPS_FRONTEND_HEAD",
        "\nfrontend marathon_https_in\n  bind *:443 ssl {sslCerts}\n  mode http\n",
        false,
    ),
    (
        "FRONTEND_HEAD",
        "\nfrontend {backend}\n  bind {bindAddr}:{servicePort}{sslCert}{bindOptions}\n  mode {mode}\n",
        true,
    ),
    ("BACKEND_HEAD", "\nbackend {backend}\n  balance {balance}\n  mode {mode}\n", true),
    (
        "BACKEND_REDIRECT_HTTP_TO_HTTPS",
        "  redirect scheme https code 301 if !{{ ssl_fc }} host_{cleanedUpHostname}\n",
        true,
    ),
    (
        "BACKEND_REDIRECT_HTTP_TO_HTTPS_WITH_PATH",
        "  redirect scheme https code 301 if !{{ ssl_fc }} host_{cleanedUpHostname} path_{backend}\n",
        true,
    ),
    (
        "BACKEND_HSTS_OPTIONS",
        "  http-response set-header Strict-Transport-Security max-age=15768000\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL",
        "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  use_backend {backend} if host_{cleanedUpHostname}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL_WITH_AUTH",
        "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  acl auth_{cleanedUpHostname} http_auth(user_{backend})\n  http-request auth realm \"{realm}\" if host_{cleanedUpHostname} !auth_{cleanedUpHostname}\n  use_backend {backend} if host_{cleanedUpHostname}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL_WITH_PATH",
        "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  acl path_{backend} path_beg {path}\n  use_backend {backend} if host_{cleanedUpHostname} path_{backend}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL_WITH_AUTH_AND_PATH",
        "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  acl auth_{cleanedUpHostname} http_auth(user_{backend})\n  acl path_{backend} path_beg {path}\n  http-request auth realm \"{realm}\" if host_{cleanedUpHostname} path_{backend} !auth_{cleanedUpHostname}\n  use_backend {backend} if host_{cleanedUpHostname} path_{backend}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL_ONLY",
        "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ROUTING_ONLY",
        "  use_backend {backend} if host_{cleanedUpHostname}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ACL_ONLY_WITH_PATH",
        "  acl path_{backend} path_beg {path}\n",
        true,
    ),
    (
        "HTTP_FRONTEND_ROUTING_ONLY_WITH_PATH",
        "  use_backend {backend} if host_{cleanedUpHostname} path_{backend}\n",
        true,
    ),
    (
        "MAP_HTTP_FRONTEND_ACL",
        "  use_backend %[req.hdr(host),lower,regsub(:.*$,,),map({haproxy_dir}/domain2backend.map)]\n",
        true,
    ),
    (
        "HTTP_FRONTEND_APPID_ACL",
        "  acl app_{cleanedUpAppId} hdr(x-marathon-app-id) -i {appId}\n  use_backend {backend} if app_{cleanedUpAppId}\n",
        true,
    ),
    (
        "MAP_HTTP_FRONTEND_APPID_ACL",
        "  use_backend %[req.hdr(x-marathon-app-id),lower,map({haproxy_dir}/app2backend.map)]\n",
        true,
    ),
    ("HTTPS_FRONTEND_ACL", "  use_backend {backend} if {{ ssl_fc_sni {hostname} }}\n", true),
    (
        "HTTPS_FRONTEND_ACL_WITH_AUTH",
        "  acl auth_{cleanedUpHostname} http_auth(user_{backend})\n  http-request auth realm \"{realm}\" if {{ ssl_fc_sni {hostname} }} !auth_{cleanedUpHostname}\n  use_backend {backend} if {{ ssl_fc_sni {hostname} }}\n",
        true,
    ),
    (
        "HTTPS_FRONTEND_ACL_WITH_PATH",
        "  use_backend {backend} if {{ ssl_fc_sni {hostname} }} path_{backend}\n",
        true,
    ),
    (
        "MAP_HTTPS_FRONTEND_ACL",
        "  use_backend %[ssl_fc_sni,lower,map({haproxy_dir}/domain2backend.map)]\n",
        true,
    ),
    (
        "BACKEND_HTTP_OPTIONS",
        "  option forwardfor\n  http-request set-header X-Forwarded-Port %[dst_port]\n  http-request add-header X-Forwarded-Proto https if { ssl_fc }\n",
        true,
    ),
    (
        "BACKEND_HTTP_HEALTHCHECK_OPTIONS",
        "  option  httpchk GET {healthCheckPath}\n  timeout check {healthCheckTimeoutSeconds}s\n",
        true,
    ),
    ("BACKEND_TCP_HEALTHCHECK_OPTIONS", "", true),
    (
        "BACKEND_STICKY_OPTIONS",
        "  cookie mesosphere_server_id insert indirect nocache\n",
        true,
    ),
    (
        "BACKEND_SERVER_OPTIONS",
        "  server {serverName} {host_ipv4}:{port} id {serverId}{cookieOptions}{healthCheckOptions}{otherOptions}\n",
        true,
    ),
    (
        "BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS",
        "  check inter {healthCheckIntervalSeconds}s fall {healthCheckFalls}{healthCheckPortOptions}\n",
        true,
    ),
    (
        "BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS",
        "  check inter {healthCheckIntervalSeconds}s fall {healthCheckFalls}{healthCheckPortOptions}\n",
        true,
    ),
    ("FRONTEND_BACKEND_GLUE", "  use_backend {backend}\n", true),
    (
        "HTTP_BACKEND_NETWORK_ALLOWED_ACL",
        "  acl network_allowed src {network_allowed}\n",
        true,
    ),
    (
        "HTTP_BACKEND_ACL_ALLOW_DENY",
        "  http-request allow if network_allowed\n  http-request deny\n",
        false,
    ),
    (
        "TCP_BACKEND_NETWORK_ALLOWED_ACL",
        "  acl network_allowed src {network_allowed}\n",
        true,
    ),
    (
        "TCP_BACKEND_ACL_ALLOW_DENY",
        "  tcp-request content accept if network_allowed\n  tcp-request content reject\n",
        false,
    ),
    (
        "HTTP_BACKEND_REDIR",
        "  acl is_root path -i /\n  acl is_domain hdr(host) -i {hostname}\n  redirect code 301 location {redirpath} if is_domain is_root\n",
        true,
    ),
];

impl Templater {
    /// The defaults, overridden from `env` (`HAPROXY_<NAME>`, `\n` escapes turned into new
    /// lines) and then from files in `dir` (`HAPROXY_<NAME>`), as upstream loads them.
    pub fn load(env: &dyn Fn(&str) -> Option<String>, dir: Option<&Path>) -> Templater {
        let mut t = HashMap::new();
        for (name, default, overridable) in DEFAULTS {
            let full = format!("HAPROXY_{name}");
            let value = match env(&full).filter(|v| !v.is_empty()) {
                Some(v) => {
                    tracing::info!(template = %full, "overriding from the environment");
                    v.replace("\\n", "\n")
                }
                None => match dir.and_then(|d| std::fs::read_to_string(d.join(&full)).ok()) {
                    Some(v) => {
                        tracing::info!(template = %full, "overriding from the templates directory");
                        v
                    }
                    None => (*default).to_owned(),
                },
            };
            t.insert(
                *name,
                Template {
                    value,
                    overridable: *overridable,
                },
            );
        }
        Templater { t }
    }

    /// The defaults alone.
    pub fn defaults() -> Templater {
        Templater::load(&|_| None, None)
    }

    /// The global value of template `name` (e.g. `"HEAD"`).
    pub fn global(&self, name: &str) -> &str {
        &self.t[name].value
    }

    /// Template `name` for service port `index` of an app with `labels`: the label
    /// `HAPROXY_{index}_{name}` when the template is overridable and the label is set.
    pub fn for_port<'a>(
        &'a self,
        name: &str,
        index: usize,
        labels: &'a HashMap<String, String>,
    ) -> &'a str {
        let t = &self.t[name];
        if t.overridable {
            if let Some(v) = labels.get(&format!("HAPROXY_{index}_{name}")) {
                return v;
            }
        }
        &t.value
    }

    /// Whether `HAPROXY_{n}_<name>` names an overridable template (label validation).
    pub fn is_overridable(&self, name: &str) -> bool {
        self.t.get(name).is_some_and(|t| t.overridable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults_with_escaped_new_lines() {
        let t = Templater::load(
            &|k| (k == "HAPROXY_BACKEND_HEAD").then(|| "\\nbackend {backend}\\n".to_owned()),
            None,
        );
        assert_eq!(t.global("BACKEND_HEAD"), "\nbackend {backend}\n");
        assert!(t.global("HEAD").contains("expose-fd listeners"));
    }

    #[test]
    fn labels_override_only_overridable_templates() {
        let t = Templater::defaults();
        let labels: HashMap<String, String> = [
            ("HAPROXY_0_BACKEND_HEAD".to_owned(), "X".to_owned()),
            ("HAPROXY_0_HEAD".to_owned(), "Y".to_owned()),
        ]
        .into();
        assert_eq!(t.for_port("BACKEND_HEAD", 0, &labels), "X");
        assert_eq!(
            t.for_port("BACKEND_HEAD", 1, &labels),
            t.global("BACKEND_HEAD")
        );
        assert!(t.for_port("HEAD", 0, &labels).starts_with("global"));
    }
}
