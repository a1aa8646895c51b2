//! The token request of a `WWW-Authenticate: Bearer` challenge, and registry replies as
//! one-line errors. (The `--docker_config` lookup is `meseta_api::docker_config`.)

use meseta_api::encoding::percent_encode as encode;

/// The token request for pulling `repo`: the challenge's `realm` with `scope` and `service`.
pub fn token_url(realm: &str, service: Option<&String>, repo: &str) -> String {
    let sep = if realm.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{realm}{sep}scope={}",
        encode(&format!("repository:{repo}:pull"))
    );
    if let Some(service) = service {
        url.push_str(&format!("&service={}", encode(service)));
    }
    url
}

/// A response body as one short line for an error message.
pub fn one_line(body: &str) -> String {
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_requests_encode_scope_and_service() {
        let service = "my registry".to_owned();
        assert_eq!(
            token_url("https://auth.example/token", Some(&service), "team/app"),
            "https://auth.example/token?scope=repository%3Ateam%2Fapp%3Apull&service=my%20registry"
        );
        assert_eq!(
            token_url("http://a/t?x=1", None, "app"),
            "http://a/t?x=1&scope=repository%3Aapp%3Apull"
        );
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
