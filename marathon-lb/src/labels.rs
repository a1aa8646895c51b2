//! The per-service-port `HAPROXY_{n}_*` labels of upstream marathon-lb (config.py's
//! `labels` list), applied to a [`Service`]. Values are checked here so that one app's bad
//! label leaves that app out rather than producing a configuration HAProxy refuses: numbers
//! must parse, a mode is http or tcp, and no value may contain a line break (HAProxy would read
//! the rest as a directive of its own) — except the template overrides, which are meant to.

use std::collections::HashMap;

use crate::apps::Service;

fn string_to_bool(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "true" | "t" | "yes" | "y")
}

fn one_line<'a>(key: &str, v: &'a str) -> Result<&'a str, String> {
    if v.contains(['\n', '\r']) {
        return Err(format!("label {key} must be one line"));
    }
    Ok(v)
}

fn token<'a>(key: &str, v: &'a str) -> Result<&'a str, String> {
    let v = one_line(key, v)?.trim();
    if v.is_empty() || v.contains(char::is_whitespace) {
        return Err(format!("label {key}={v:?} must be one word"));
    }
    Ok(v)
}

fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("label {key}={v:?} is not a valid number"))
}

/// Applies the labels of service port `s.index`.
pub fn apply(s: &mut Service, labels: &HashMap<String, String>) -> Result<(), String> {
    let prefix = format!("HAPROXY_{}_", s.index);
    for (key, v) in labels {
        let Some(name) = key.strip_prefix(&prefix) else {
            continue;
        };
        match name {
            "VHOST" => s.hostname = Some(token(key, v)?.to_lowercase()),
            "PATH" => {
                s.path = Some(token(key, v)?.to_owned());
                if s.backend_weight == 0 {
                    s.backend_weight = 1;
                }
            }
            "AUTH" => {
                let parts: Vec<&str> = one_line(key, v)?.split(':').collect();
                let [realm, user, pass] = parts[..] else {
                    return Err(format!("label {key} must be realm:user:password"));
                };
                s.auth = Some((
                    realm.into(),
                    token(key, user)?.into(),
                    token(key, pass)?.into(),
                ));
            }
            "STICKY" => s.sticky = string_to_bool(v),
            "ENABLED" => s.enabled = string_to_bool(v),
            "REDIRECT_TO_HTTPS" => s.redirect_to_https = string_to_bool(v),
            "USE_HSTS" => s.use_hsts = string_to_bool(v),
            "SSL_CERT" => s.ssl_cert = Some(token(key, v)?.to_owned()),
            "BIND_OPTIONS" => s.bind_options = Some(one_line(key, v)?.to_owned()),
            "BIND_ADDR" => s.bind_addr = token(key, v)?.to_owned(),
            "PORT" => {
                let p: u16 = number(key, v)?;
                if p == 0 {
                    return Err(format!("label {key}={v:?} is not a valid port"));
                }
                s.service_port = p;
            }
            "BACKEND_HEALTHCHECK_PORT_INDEX" => s.healthcheck_port_index = Some(number(key, v)?),
            "BACKEND_WEIGHT" => s.backend_weight = number(key, v)?,
            "MODE" => {
                let m = token(key, v)?.to_lowercase();
                if m != "http" && m != "tcp" {
                    return Err(format!("label {key}={v:?} must be http or tcp"));
                }
                s.mode = Some(m);
            }
            "BALANCE" => s.balance = one_line(key, v)?.trim().to_owned(),
            "GROUP" => {
                s.port_groups = one_line(key, v)?
                    .split(',')
                    .map(|g| g.trim().to_owned())
                    .collect()
            }
            "BACKEND_NETWORK_ALLOWED_ACL" => s.network_allowed = Some(one_line(key, v)?.to_owned()),
            "HTTP_BACKEND_REDIR" => s.redirpath = Some(token(key, v)?.to_owned()),
            // Template overrides are read where they are used (templates.rs).
            _ => {}
        }
    }
    if s.balance.is_empty() {
        return Err(format!("label {prefix}BALANCE is empty"));
    }
    Ok(())
}
