//! The local authorizer against cases of Mesos's `src/tests/authorization_tests.cpp`.

use super::*;

fn authz(json: &str) -> Authorizer {
    Authorizer::new(Acls::parse(json).unwrap())
}

#[test]
fn no_rules_follows_permissive() {
    let a = authz("{}");
    assert!(a.approved(Some("foo"), Action::TeardownFramework, Some("bar")));
    assert!(a.approved(None, Action::MarkAgentGone, None));
    let a = authz(r#"{"permissive": false}"#);
    assert!(!a.approved(Some("foo"), Action::TeardownFramework, Some("bar")));
}

#[test]
fn principal_and_object_must_both_be_listed() {
    let a = authz(
        r#"{"permissive": false, "run_tasks": [
            {"principals": {"values": ["foo", "bar"]}, "users": {"values": ["alice"]}}]}"#,
    );
    assert!(a.approved(Some("foo"), Action::RunTask, Some("alice")));
    assert!(a.approved(Some("bar"), Action::RunTask, Some("alice")));
    assert!(!a.approved(Some("foo"), Action::RunTask, Some("root")));
    assert!(!a.approved(Some("baz"), Action::RunTask, Some("alice")));
    // Unauthenticated is ANY, which a list of principals does not match.
    assert!(!a.approved(None, Action::RunTask, Some("alice")));
}

#[test]
fn first_match_wins() {
    let a = authz(
        r#"{"teardown_frameworks": [
            {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}"#,
    );
    assert!(a.approved(Some("ops"), Action::TeardownFramework, Some("fw")));
    // "Nobody else may tear down anything": NONE matches every object and allows none.
    assert!(!a.approved(Some("fw"), Action::TeardownFramework, Some("fw")));
    assert!(!a.approved(None, Action::TeardownFramework, Some("fw")));
    // The other way round, the deny rule shadows the grant.
    let b = authz(
        r#"{"teardown_frameworks": [
            {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}},
            {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}]}"#,
    );
    assert!(!b.approved(Some("ops"), Action::TeardownFramework, Some("fw")));
}

#[test]
fn none_principals_deny_everyone_including_anonymous() {
    let a = authz(
        r#"{"mark_agents_gone": [{"principals": {"type": "NONE"}, "agents": {"type": "ANY"}}]}"#,
    );
    assert!(!a.approved(Some("ops"), Action::MarkAgentGone, None));
    // Request ANY (anonymous) matches an ACL NONE, which does not allow ANY.
    assert!(!a.approved(None, Action::MarkAgentGone, None));
}

#[test]
fn any_object_request_skips_rules_naming_values() {
    // GET_QUOTA with no role named, etc.: SOME rules do not match an ANY object.
    let a = authz(
        r#"{"permissive": false, "view_frameworks": [
            {"principals": {"type": "ANY"}, "users": {"values": ["alice"]}}]}"#,
    );
    assert!(a.approved(Some("x"), Action::ViewFramework, Some("alice")));
    assert!(!a.approved(Some("x"), Action::ViewFramework, None));
}

#[test]
fn hierarchical_roles() {
    let a = authz(
        r#"{"permissive": false, "register_frameworks": [
            {"principals": {"values": ["fw"]}, "roles": {"values": ["eng/%", "ops"]}}]}"#,
    );
    assert!(a.approved(Some("fw"), Action::RegisterFramework, Some("eng/web")));
    assert!(a.approved(Some("fw"), Action::RegisterFramework, Some("eng/a/b")));
    assert!(a.approved(Some("fw"), Action::RegisterFramework, Some("ops")));
    assert!(!a.approved(Some("fw"), Action::RegisterFramework, Some("eng")));
    assert!(!a.approved(Some("fw"), Action::RegisterFramework, Some("engineering")));
    assert!(!a.approved(Some("fw"), Action::RegisterFramework, Some("ops/x")));
    assert!(a.approved_roles(Some("fw"), Action::RegisterFramework, ["ops", "eng/x"]));
    assert!(!a.approved_roles(Some("fw"), Action::RegisterFramework, ["ops", "dev"]));
    // No role at all: permissive decides.
    assert!(!a.approved_roles(Some("fw"), Action::RegisterFramework, []));
}

#[test]
fn role_rules_with_any_and_none() {
    let a = authz(
        r#"{"update_weights": [
            {"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}],
            "update_quotas": [
            {"principals": {"values": ["ops"]}, "roles": {"values": ["web"]}},
            {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}]}"#,
    );
    assert!(a.approved(Some("ops"), Action::UpdateWeight, Some("web")));
    assert!(!a.approved(Some("dev"), Action::UpdateWeight, Some("web")));
    assert!(a.approved(Some("ops"), Action::UpdateQuota, Some("web")));
    assert!(!a.approved(Some("ops"), Action::UpdateQuota, Some("db")));
}
