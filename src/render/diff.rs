//! The field diff of one change, shared by the text and markdown views.
//!
//! Each side's [`State`] is flattened into `key = value` fields in a fixed
//! order (provider, host, endpoint, VPC, then tags by key), the two lists are
//! diffed with `similar`, and only the changed fields are kept, each removal
//! next to the addition of the same key so "old, then new" reads naturally.

use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::plan::{Change, State};

/// One flattened field. The derived order is display order: `rank` first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Field {
    rank: u8,
    key: String,
    value: String,
}

/// Whether a diff line is the old or the new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Sign {
    Remove,
    Add,
}

impl Sign {
    pub(super) fn as_char(self) -> char {
        match self {
            Sign::Remove => '-',
            Sign::Add => '+',
        }
    }
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub sign: Sign,
    pub key: String,
    pub value: String,
    /// This field is why the resource must be replaced.
    pub forces_replacement: bool,
}

/// A change's changed fields, and how many fields stayed the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct FieldDiff {
    pub lines: Vec<Line>,
    pub unchanged: usize,
}

impl FieldDiff {
    /// The widest key, so renderers can line up the `=` signs.
    pub fn key_width(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.key.chars().count())
            .max()
            .unwrap_or(0)
    }
}

/// The text a host ARN has before the host exists: like Terraform's
/// "(known after apply)", so a reviewer sees the field will be set.
const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// The diff between a change's `before` and `after` (either may be absent:
/// a create has no before, a delete no after).
pub(super) fn field_diff(change: &Change) -> FieldDiff {
    let old = change.before.as_ref().map(fields).unwrap_or_default();
    let new = change.after.as_ref().map(fields).unwrap_or_default();

    let mut changed: Vec<(Sign, &Field)> = Vec::new();
    let mut unchanged = 0;
    for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => unchanged += old_range.len(),
            DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                changed.extend(old[old_range].iter().map(|f| (Sign::Remove, f)));
                changed.extend(new[new_range].iter().map(|f| (Sign::Add, f)));
            }
        }
    }
    // A replace op lists all removals before all additions; regroup by field
    // so each old value sits right above its new one.
    changed.sort_by(|(sa, a), (sb, b)| (a.rank, &a.key, sa).cmp(&(b.rank, &b.key, sb)));

    let lines = changed
        .iter()
        .map(|&(sign, field)| {
            // Mark the new value; mark the old one only when there is no new
            // one (a field that disappears), so each reason is marked once.
            let has_new = changed
                .iter()
                .any(|(s, f)| *s == Sign::Add && f.key == field.key);
            Line {
                sign,
                key: field.key.clone(),
                value: field.value.clone(),
                forces_replacement: forces_replacement(change, &field.key)
                    && (sign == Sign::Add || !has_new),
            }
        })
        .collect();
    FieldDiff { lines, unchanged }
}

/// Whether a change to `key` is one of the change's `replace_fields`. A
/// connection's host is shown both by name and by ARN, and either spelling
/// in `replace_fields` means the pair.
fn forces_replacement(change: &Change, key: &str) -> bool {
    change.replace_fields.iter().any(|f| {
        f == key
            || (matches!(f.as_str(), "host" | "host_arn") && matches!(key, "host" | "host_arn"))
    })
}

/// A state as ordered `key = value` fields. `status` is left out: it is
/// reported by AWS, not something a plan changes.
fn fields(state: &State) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |rank: u8, key: &str, value: String| {
        out.push(Field {
            rank,
            key: key.to_owned(),
            value,
        })
    };
    if let Some(p) = &state.provider_type {
        push(0, "provider_type", quote(p));
    }
    if let Some(h) = &state.host {
        push(1, "host", quote(h));
    }
    match (&state.host_arn, &state.host) {
        (Some(arn), _) => push(2, "host_arn", quote(arn)),
        (None, Some(_)) => push(2, "host_arn", KNOWN_AFTER_APPLY.to_owned()),
        (None, None) => {}
    }
    if let Some(e) = &state.provider_endpoint {
        push(3, "provider_endpoint", quote(e));
    }
    if let Some(vpc) = &state.vpc {
        push(4, "vpc.vpc_id", quote(&vpc.vpc_id));
        push(5, "vpc.subnet_ids", list(&vpc.subnet_ids));
        push(6, "vpc.security_group_ids", list(&vpc.security_group_ids));
        if let Some(sha) = &vpc.tls_certificate_sha256 {
            push(7, "vpc.tls_certificate_sha256", quote(sha));
        }
    }
    for (k, v) in &state.tags {
        push(8, &tag_key(k), quote(v));
    }
    out
}

/// Strings are quoted (and escaped) so an empty tag value, trailing spaces or
/// a `=` inside a value stay visible and unambiguous.
fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `tags.env` for ordinary keys; `tags["a key"]` when the key holds spaces,
/// `=` or anything else that would make the line hard to read.
fn tag_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-' | '@' | '+'));
    if plain {
        format!("tags.{key}")
    } else {
        format!("tags[{}]", quote(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, TagChanges, VpcState};
    use crate::resource::Kind;

    fn change(before: Option<State>, after: Option<State>, replace: &[&str]) -> Change {
        Change {
            action: Action::Update,
            kind: Kind::Host,
            name: "h".to_owned(),
            target: "t".to_owned(),
            arn: None,
            reason: String::new(),
            replace_fields: replace.iter().map(|s| s.to_string()).collect(),
            before,
            after,
            tags: TagChanges::default(),
            update_host: false,
            duplicate_of: None,
        }
    }

    fn rendered(diff: &FieldDiff) -> Vec<String> {
        diff.lines
            .iter()
            .map(|l| {
                let mark = if l.forces_replacement { " !" } else { "" };
                format!("{} {} = {}{mark}", l.sign.as_char(), l.key, l.value)
            })
            .collect()
    }

    #[test]
    fn old_and_new_values_of_a_field_sit_together_and_unchanged_ones_are_counted() {
        let before = State {
            provider_endpoint: Some("https://old".into()),
            vpc: Some(VpcState {
                vpc_id: "vpc-1".into(),
                subnet_ids: vec!["subnet-a".into()],
                security_group_ids: vec!["sg-1".into()],
                tls_certificate_sha256: None,
            }),
            tags: [("a".into(), "1".into()), ("b".into(), "1".into())].into(),
            ..State::default()
        };
        let mut after = before.clone();
        after.provider_endpoint = Some("https://new".into());
        after
            .vpc
            .as_mut()
            .unwrap()
            .subnet_ids
            .push("subnet-b".into());
        after.tags = [("b".into(), "2".into()), ("c".into(), "".into())].into();

        let diff = field_diff(&change(Some(before), Some(after), &[]));
        assert_eq!(
            rendered(&diff),
            [
                r#"- provider_endpoint = "https://old""#,
                r#"+ provider_endpoint = "https://new""#,
                r#"- vpc.subnet_ids = ["subnet-a"]"#,
                r#"+ vpc.subnet_ids = ["subnet-a", "subnet-b"]"#,
                r#"- tags.a = "1""#,
                r#"- tags.b = "1""#,
                r#"+ tags.b = "2""#,
                r#"+ tags.c = """#,
            ]
        );
        assert_eq!(diff.unchanged, 2, "vpc_id and security groups");
    }

    #[test]
    fn the_field_forcing_a_replacement_is_marked_once() {
        let before = State {
            provider_type: Some("GitHubEnterpriseServer".into()),
            host: Some("old".into()),
            host_arn: Some("arn:old".into()),
            ..State::default()
        };
        let after = State {
            provider_type: Some("GitHubEnterpriseServer".into()),
            host: Some("old".into()),
            ..State::default()
        };
        let diff = field_diff(&change(Some(before), Some(after), &["host"]));
        assert_eq!(
            rendered(&diff),
            [
                r#"- host_arn = "arn:old""#,
                "+ host_arn = (known after apply) !"
            ]
        );
    }

    #[test]
    fn odd_tag_keys_are_quoted() {
        assert_eq!(tag_key("team"), "tags.team");
        assert_eq!(
            tag_key("codestar-reconcile:stack"),
            "tags.codestar-reconcile:stack"
        );
        assert_eq!(tag_key("cost center"), r#"tags["cost center"]"#);
        assert_eq!(tag_key("a=b"), r#"tags["a=b"]"#);
    }
}
