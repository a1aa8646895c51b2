//! Group deployments without Mesos: one deployment for all the group's apps, dependencies
//! launched first and dependents only once those are running, cycles and unknown
//! dependencies refused, PUT removing the apps a group no longer lists.

use super::tests::{core, drain, offer, run_all};
use crate::error::ApiError;
use crate::model::validate::{app_from_object, parse_object};
use crate::model::{ActionKind, App, PathId};

fn app(def: &str) -> App {
    app_from_object(parse_object(def.as_bytes()).unwrap(), &PathId::root()).unwrap()
}

fn three_tier() -> Vec<App> {
    vec![
        app(
            r#"{"id":"/shop/web","cmd":"sleep 1","cpus":0.1,"mem":16,"portDefinitions":[],"instances":2,"dependencies":["api"]}"#,
        ),
        app(
            r#"{"id":"/shop/api","cmd":"sleep 1","cpus":0.1,"mem":16,"portDefinitions":[],"instances":1,"dependencies":["/shop/db"]}"#,
        ),
        app(
            r#"{"id":"/shop/db","cmd":"sleep 1","cpus":0.1,"mem":16,"portDefinitions":[],"instances":1}"#,
        ),
    ]
}

#[test]
fn a_group_is_one_deployment_in_dependency_order() {
    let mut c = core();
    let r = c
        .deploy_group(three_tier(), vec![], true, false)
        .unwrap()
        .unwrap();
    assert_eq!(c.deployments.len(), 1);
    let d = &c.deployments[&r.deployment_id];
    let steps: Vec<Vec<(ActionKind, &str)>> = d
        .steps
        .iter()
        .map(|s| s.iter().map(|a| (a.action, a.app.as_str())).collect())
        .collect();
    let start = |id| (ActionKind::StartApplication, id);
    let scale = |id| (ActionKind::ScaleApplication, id);
    assert_eq!(
        steps,
        vec![
            vec![start("/shop/web"), start("/shop/api"), start("/shop/db")],
            vec![scale("/shop/db")],
            vec![scale("/shop/api")],
            vec![scale("/shop/web")],
        ]
    );

    // Only db launches until it runs; then api; then web; then the deployment is done.
    for (app, n) in [("shop_db.", 1), ("shop_api.", 1), ("shop_web.", 2)] {
        c.tick();
        c.handle_offers(vec![offer(1)]);
        let (launched, _) = drain(&mut c);
        assert_eq!(launched.len(), n, "{launched:?}");
        assert!(launched.iter().all(|t| t.starts_with(app)), "{launched:?}");
        c.tick();
        assert_eq!(c.deployments.len(), 1, "not done before {app} runs");
        run_all(&mut c, &launched);
    }
    c.tick();
    assert!(c.deployments.is_empty());
}

#[test]
fn cycles_and_unknown_dependencies_are_refused_and_nothing_changes() {
    let mut c = core();
    let cyclic = vec![
        app(r#"{"id":"/g/a","cmd":"sleep 1","instances":1,"dependencies":["b"]}"#),
        app(r#"{"id":"/g/b","cmd":"sleep 1","instances":1,"dependencies":["a"]}"#),
    ];
    assert!(matches!(
        c.deploy_group(cyclic, vec![], true, false),
        Err(ApiError::Definition(_))
    ));
    let unknown = vec![app(
        r#"{"id":"/g/a","cmd":"sleep 1","instances":1,"dependencies":["/nowhere"]}"#,
    )];
    assert!(matches!(
        c.deploy_group(unknown, vec![], true, false),
        Err(ApiError::Definition(_))
    ));
    assert!(c.apps.is_empty() && c.deployments.is_empty());
}

#[test]
fn a_second_change_is_refused_while_the_group_deploys_unless_forced() {
    let mut c = core();
    c.deploy_group(three_tier(), vec![], true, false).unwrap();
    let again = vec![app(
        r#"{"id":"/shop/db","cmd":"sleep 2","cpus":0.1,"mem":16,"portDefinitions":[],"instances":1}"#,
    )];
    assert!(matches!(
        c.deploy_group(again.clone(), vec![], false, false),
        Err(ApiError::Conflict { .. })
    ));
    assert!(c
        .deploy_group(again, vec![], false, true)
        .unwrap()
        .is_some());
    assert_eq!(
        c.deployments.len(),
        1,
        "the forced change replaced the first"
    );
}

#[test]
fn removed_apps_are_stopped_in_the_same_deployment() {
    let mut c = core();
    c.deploy_group(three_tier(), vec![], true, false).unwrap();
    c.deployments.clear();
    let keep = vec![app(
        r#"{"id":"/shop/db","cmd":"sleep 1","cpus":0.1,"mem":16,"portDefinitions":[],"instances":3}"#,
    )];
    let removed = vec![
        PathId::parse("/shop/web").unwrap(),
        PathId::parse("/shop/api").unwrap(),
    ];
    let r = c
        .deploy_group(keep, removed, false, false)
        .unwrap()
        .unwrap();
    let d = &c.deployments[&r.deployment_id];
    assert_eq!(d.steps.len(), 2);
    assert!(d.steps[0]
        .iter()
        .all(|a| a.action == ActionKind::StopApplication));
    assert_eq!(d.steps[1][0].action, ActionKind::ScaleApplication);
    assert_eq!(c.apps.len(), 1);
}
