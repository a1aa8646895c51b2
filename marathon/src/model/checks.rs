//! Marathon's semantic checks of an app definition (upstream `AppValidation.scala`,
//! `AppDefinition.validAppDefinition`): a command, args or image; non-negative instances and
//! resources; known container types and networks; health check protocols and port indices;
//! constraint operators and values; upgrade strategy and backoff ranges; env values; unique
//! service ports. Each failure is a [`Violation`] with its JSON path.

use serde_json::Value;

use super::app::App;
use super::health::PROTOCOLS;
use super::validate::{violation, DefinitionError, Violation};

const OPERATORS: &[&str] = &[
    "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS",
];

/// Marathon's semantic checks; 422 with every violation found.
pub fn validate(app: &App) -> Result<(), DefinitionError> {
    let mut v = Vec::new();
    let has_cmd = app.cmd.as_deref().is_some_and(|c| !c.trim().is_empty());
    let has_args = app.args.as_ref().is_some_and(|a| !a.is_empty());
    let has_image = app.container.as_ref().and_then(|c| c.image()).is_some();
    if !has_cmd && !has_args && !has_image {
        v.push(violation(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
        ));
    }
    if has_cmd && has_args {
        v.push(violation(
            "/",
            "AppDefinition must either contain a 'cmd' or a 'args', but not both.",
        ));
    }
    if app.instances < 0 {
        v.push(violation(
            "/instances",
            format!("got {}, expected 0 or more", app.instances),
        ));
    }
    for (name, value, min) in [
        ("cpus", app.cpus, 0.0),
        ("mem", app.mem, 0.0),
        ("disk", app.disk, 0.0),
    ] {
        if !value.is_finite() || value < min {
            v.push(violation(
                &format!("/{name}"),
                format!("got {value}, expected {min:.1} or more"),
            ));
        }
    }
    if app.gpus < 0 {
        v.push(violation(
            "/gpus",
            format!("got {}, expected 0 or more", app.gpus),
        ));
    }
    if let Some(c) = &app.container {
        validate_container(app, c, &mut v);
    }
    let ports = app.host_port_count().max(app.service_ports().len());
    for (i, hc) in app.health_checks.iter().enumerate() {
        let p = format!("/healthChecks({i})");
        if !PROTOCOLS.contains(&hc.protocol.as_str()) {
            v.push(violation(
                &format!("{p}/protocol"),
                format!("error.unknown.enum.literal: {}", hc.protocol),
            ));
        }
        if hc.protocol == "COMMAND" && hc.command_value().is_none() {
            v.push(violation(
                &format!("{p}/command"),
                "command must be set for protocol COMMAND",
            ));
        }
        if hc.protocol != "COMMAND" && hc.port.is_none() {
            let idx = hc.port_index.unwrap_or(0);
            if idx < 0 || usize::try_from(idx).unwrap_or(usize::MAX) >= ports {
                v.push(violation(
                    &format!("{p}/portIndex"),
                    "Health check port indices must address an element of the ports array or container port mappings.",
                ));
            }
        }
        if hc.interval_seconds <= 0.0 || hc.timeout_seconds <= 0.0 || hc.grace_period_seconds < 0.0
        {
            v.push(violation(&p, "intervalSeconds and timeoutSeconds must be positive, gracePeriodSeconds not negative"));
        }
    }
    for (i, c) in app.constraints.iter().enumerate() {
        validate_constraint(c, &format!("/constraints({i})"), &mut v);
    }
    let us = &app.upgrade_strategy;
    if !(0.0..=1.0).contains(&us.minimum_health_capacity) {
        v.push(violation(
            "/upgradeStrategy/minimumHealthCapacity",
            "got value, expected between 0.0 and 1.0",
        ));
    }
    if !(0.0..=1.0).contains(&us.maximum_over_capacity) {
        v.push(violation(
            "/upgradeStrategy/maximumOverCapacity",
            "got value, expected between 0.0 and 1.0",
        ));
    }
    if app.backoff_seconds < 0.0 {
        v.push(violation(
            "/backoffSeconds",
            "got value, expected 0 or more",
        ));
    }
    if app.backoff_factor < 1.0 {
        v.push(violation(
            "/backoffFactor",
            "got value, expected 1.0 or more",
        ));
    }
    if !["YOUNGEST_FIRST", "OLDEST_FIRST"].contains(&app.kill_selection.as_str()) {
        v.push(violation("/killSelection", "error.unknown.enum.literal"));
    }
    for (k, val) in &app.env {
        if !(val.is_string() || val.get("secret").is_some_and(Value::is_string)) {
            v.push(violation(
                &format!("/env/{k}"),
                "must be a string or {\"secret\": name}",
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in app.service_ports().iter().enumerate() {
        if *p < 0 || *p > 65535 {
            v.push(violation(
                &format!("/portDefinitions({i})/port"),
                "port out of range",
            ));
        } else if *p != 0 && !seen.insert(*p) {
            v.push(violation("/portDefinitions", "Ports must be unique."));
        }
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError::Invalid(v))
    }
}

fn validate_container(app: &App, c: &super::container::Container, v: &mut Vec<Violation>) {
    match c.kind.as_str() {
        "DOCKER" => {
            if c.image().is_none() {
                v.push(violation("/container/docker/image", "must not be empty"));
            }
            let net = c
                .docker
                .as_ref()
                .and_then(|d| d.network.as_deref())
                .unwrap_or("HOST");
            if !["HOST", "BRIDGE", "USER", "NONE"].contains(&net) {
                v.push(violation(
                    "/container/docker/network",
                    "error.unknown.enum.literal",
                ));
            }
            if !c.port_mappings().is_empty() && !app.is_bridge() {
                v.push(violation(
                    "/container/docker/portMappings",
                    "Port mappings are only allowed in BRIDGE or USER network mode",
                ));
            }
        }
        "MESOS" => {}
        other => v.push(violation(
            "/container/type",
            format!("error.unknown.enum.literal: {other}"),
        )),
    }
    for (i, m) in c.port_mappings().iter().enumerate() {
        let bad = |p: i64| !(0..=65535).contains(&p);
        if bad(m.container_port) || m.host_port.is_some_and(bad) || bad(m.service_port) {
            v.push(violation(
                &format!("/container/docker/portMappings({i})"),
                "port out of range",
            ));
        }
    }
}

fn validate_constraint(c: &[String], path: &str, v: &mut Vec<Violation>) {
    let (Some(field), Some(op)) = (c.first(), c.get(1)) else {
        v.push(violation(
            path,
            "Each constraint must have either 2 or 3 fields",
        ));
        return;
    };
    if field.is_empty() || c.len() > 3 {
        v.push(violation(
            path,
            "Each constraint must have either 2 or 3 fields",
        ));
    }
    if !OPERATORS.contains(&op.as_str()) {
        v.push(violation(
            path,
            format!("Constraint operator must be one of {OPERATORS:?}"),
        ));
        return;
    }
    let value = c.get(2);
    match op.as_str() {
        "LIKE" | "UNLIKE" => match value {
            Some(re) if regex::Regex::new(&format!("^(?:{re})$")).is_ok() => {}
            Some(_) => v.push(violation(
                path,
                "'value' must be a valid regular expression",
            )),
            None => v.push(violation(
                path,
                "A regular expression value must be provided",
            )),
        },
        "CLUSTER" | "IS" if value.is_none_or(|s| s.is_empty()) => {
            v.push(violation(path, "a value must be provided"))
        }
        "MAX_PER" if value.and_then(|s| s.parse::<u32>().ok()).is_none() => {
            v.push(violation(path, "Value was not an integer"))
        }
        "GROUP_BY" if value.is_some_and(|s| s.parse::<u32>().is_err()) => {
            v.push(violation(path, "Value was not an integer"))
        }
        _ => {}
    }
}
