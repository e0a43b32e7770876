//! The field diff of one change, shared by the text and markdown views.
//!
//! Each side's [`State`] is flattened into `key = value` fields in a fixed
//! order (provider, host, endpoint, VPC, then tags by key), the two lists are
//! diffed with `similar`, and only the changed fields are kept, each removal
//! next to the addition of the same key so "old, then new" reads naturally.

use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::plan::{Change, Field, State, Value};

/// One flattened field. The derived order is display order: the field's,
/// then its part's (`vpc.subnet_ids` after `vpc.vpc_id`), then the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Entry {
    field: Field,
    part: u8,
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
    pub(crate) sign: Sign,
    pub(crate) key: String,
    pub(crate) value: String,
    /// This field is why the resource must be replaced.
    pub(crate) forces_replacement: bool,
}

/// A change's changed fields, and how many fields stayed the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct FieldDiff {
    pub(crate) lines: Vec<Line>,
    pub(crate) unchanged: usize,
}

impl FieldDiff {
    /// The widest key, so renderers can line up the `=` signs.
    pub(crate) fn key_width(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.key.chars().count())
            .max()
            .unwrap_or(0)
    }

    /// `# (2 unchanged fields hidden)`, when any are.
    pub(crate) fn hidden(&self) -> Option<String> {
        match self.unchanged {
            0 => None,
            1 => Some("# (1 unchanged field hidden)".to_owned()),
            n => Some(format!("# ({n} unchanged fields hidden)")),
        }
    }
}

impl Line {
    /// `+ key = value`, the key padded to `width` so the `=` line up.
    pub(crate) fn text(&self, width: usize) -> String {
        format!(
            "{} {:width$} = {}",
            self.sign.as_char(),
            self.key,
            self.value
        )
    }
}

/// Marks the line of a field that forces a replacement.
pub(super) const FORCES_REPLACEMENT: &str = "# forces replacement";

/// The text a host ARN has before the host exists: like Terraform's
/// "(known after apply)", so a reviewer sees the field will be set.
const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// The diff between a change's `before` and `after` (either may be absent:
/// a create has no before, a delete no after).
pub(super) fn field_diff(change: &Change) -> FieldDiff {
    let old = change.before.as_ref().map(fields).unwrap_or_default();
    let new = change.after.as_ref().map(fields).unwrap_or_default();

    let mut changed: Vec<(Sign, &Entry)> = Vec::new();
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
    changed.sort_by(|(sa, a), (sb, b)| {
        (a.field, a.part, &a.key, sa).cmp(&(b.field, b.part, &b.key, sb))
    });

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
                forces_replacement: forces_replacement(change, field.field)
                    && (sign == Sign::Add || !has_new),
            }
        })
        .collect();
    FieldDiff { lines, unchanged }
}

/// Whether a change to `field` is one of the change's `replace_fields`. A
/// connection's host, a link's connection and a sync configuration's link
/// show both by name and by identifier, and either in `replace_fields`
/// means the pair.
fn forces_replacement(change: &Change, field: Field) -> bool {
    change.replace_fields.iter().any(|f| {
        *f == field || (by_name_and_id(*f).is_some() && by_name_and_id(*f) == by_name_and_id(field))
    })
}

/// The pair a field belongs to, if it is one of a reference's two fields.
fn by_name_and_id(field: Field) -> Option<u8> {
    match field {
        Field::Host | Field::HostArn => Some(0),
        Field::Connection | Field::ConnectionArn => Some(1),
        Field::Repository | Field::RepositoryLinkId => Some(2),
        _ => None,
    }
}

/// A state as ordered `key = value` fields. `status` is left out: it is
/// reported by AWS, not something a plan changes.
fn fields(state: &State) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut push = |field: Field, part: u8, key: &str, value: String| {
        out.push(Entry {
            field,
            part,
            key: key.to_owned(),
            value,
        })
    };
    for (field, value) in &state.fields {
        match value {
            Value::Text(text) => push(*field, 0, field.as_str(), quote(text)),
            Value::Vpc(vpc) => {
                push(*field, 0, "vpc.vpc_id", quote(&vpc.vpc_id));
                push(*field, 1, "vpc.subnet_ids", list(&vpc.subnet_ids));
                push(
                    *field,
                    2,
                    "vpc.security_group_ids",
                    list(&vpc.security_group_ids),
                );
                if let Some(sha) = &vpc.tls_certificate_sha256 {
                    push(*field, 3, "vpc.tls_certificate_sha256", quote(sha));
                }
            }
        }
    }
    // A host (connection, link) of the file not created yet: its ARN (id)
    // is known after apply.
    for (by_name, by_id) in [
        (Field::Host, Field::HostArn),
        (Field::Connection, Field::ConnectionArn),
        (Field::Repository, Field::RepositoryLinkId),
    ] {
        if state.text(by_name).is_some() && state.text(by_id).is_none() {
            push(by_id, 0, by_id.as_str(), KNOWN_AFTER_APPLY.to_owned());
        }
    }
    for (k, v) in &state.tags {
        push(Field::Tags, 0, &tag_key(k), quote(v));
    }
    out.sort();
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
    use crate::plan::{Action, Reason, TagChanges, VpcState};
    use crate::resource::Kind;

    fn change(before: Option<State>, after: Option<State>, replace: &[Field]) -> Change {
        Change {
            action: Action::Update,
            kind: Kind::Host,
            name: "h".to_owned(),
            target: "t".to_owned(),
            arn: None,
            reason: Reason::CannotChangeInPlace,
            replace_fields: replace.to_vec(),
            before,
            after,
            tags: TagChanges::default(),
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

    fn vpc(subnets: &[&str]) -> VpcState {
        VpcState {
            vpc_id: "vpc-1".into(),
            subnet_ids: subnets.iter().map(|s| (*s).to_owned()).collect(),
            security_group_ids: vec!["sg-1".into()],
            tls_certificate_sha256: None,
        }
    }

    #[test]
    fn old_and_new_values_of_a_field_sit_together_and_unchanged_ones_are_counted() {
        let before = State::tagged([("a".into(), "1".into()), ("b".into(), "1".into())].into())
            .with(Field::ProviderEndpoint, Some("https://old"))
            .with_vpc(Some(vpc(&["subnet-a"])));
        let after = State::tagged([("b".into(), "2".into()), ("c".into(), "".into())].into())
            .with(Field::ProviderEndpoint, Some("https://new"))
            .with_vpc(Some(vpc(&["subnet-a", "subnet-b"])));

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
        let before = State::default()
            .with(Field::ProviderType, Some("GitHubEnterpriseServer"))
            .with(Field::Host, Some("old"))
            .with(Field::HostArn, Some("arn:old"));
        let after = State::default()
            .with(Field::ProviderType, Some("GitHubEnterpriseServer"))
            .with(Field::Host, Some("old"));
        let diff = field_diff(&change(Some(before), Some(after), &[Field::Host]));
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
