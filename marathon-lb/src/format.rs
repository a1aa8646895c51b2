//! The `{name}` substitution of upstream marathon-lb's templates (Python's `str.format` with
//! named fields only): `{{` and `}}` are literal braces, a field names one of the values the
//! template is given. Upstream templates and user overrides are written in this syntax, so it
//! is reproduced exactly rather than mapped onto a Rust template engine (whose syntax differs).

/// Why a template could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// `{name}` where no value called `name` exists.
    #[error("unknown template field {{{0}}}")]
    UnknownField(String),
    /// A `{` without its `}`, or a lone `}`.
    #[error("unbalanced brace in template at byte {0}")]
    Unbalanced(usize),
}

/// Fills `template` with `values` (`(name, value)` pairs).
pub fn format(template: &str, values: &[(&str, &str)]) -> Result<String, FormatError> {
    let mut out = String::with_capacity(template.len() + 64);
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                out.push_str(&template[literal_start..i]);
                out.push('{');
                i += 2;
                literal_start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                out.push_str(&template[literal_start..i]);
                out.push('}');
                i += 2;
                literal_start = i;
            }
            b'{' => {
                out.push_str(&template[literal_start..i]);
                let end = template[i..]
                    .find('}')
                    .map(|e| i + e)
                    .ok_or(FormatError::Unbalanced(i))?;
                let name = &template[i + 1..end];
                let value = values
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| FormatError::UnknownField(name.to_owned()))?;
                out.push_str(value);
                i = end + 1;
                literal_start = i;
            }
            b'}' => return Err(FormatError::Unbalanced(i)),
            _ => i += 1,
        }
    }
    out.push_str(&template[literal_start..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_escaped_braces_are_filled_as_python_does() {
        let t = "  redirect scheme https if !{{ ssl_fc }} host_{h}\n";
        assert_eq!(
            format(t, &[("h", "web")]).unwrap(),
            "  redirect scheme https if !{ ssl_fc } host_web\n"
        );
        assert_eq!(
            format("a{x}{y}b", &[("x", "1"), ("y", "2")]).unwrap(),
            "a12b"
        );
    }

    #[test]
    fn unknown_fields_and_lone_braces_are_errors() {
        assert_eq!(
            format("{nope}", &[]),
            Err(FormatError::UnknownField("nope".into()))
        );
        assert!(matches!(
            format("a{b", &[]),
            Err(FormatError::Unbalanced(1))
        ));
        assert!(matches!(
            format("a}b", &[]),
            Err(FormatError::Unbalanced(1))
        ));
    }
}
