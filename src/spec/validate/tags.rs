//! Tags: keys and values as the service allows them, our own and AWS's
//! prefixes refused, merged over the default tags within the quota.

use super::*;

pub(super) fn check_tags(c: &mut Checker<'_>, tags: &FileTags) {
    for (key, value) in tags {
        let key_len = key.chars().count();
        if key_len == 0 {
            c.error(
                key.pos,
                format!("tag key is empty; tag keys are 1-{TAG_KEY_MAX} characters"),
            );
        } else if key_len > TAG_KEY_MAX {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} is {key_len} characters; tag keys are 1-{TAG_KEY_MAX} characters",
                    key.value
                ),
            );
        }
        // AWS reserves the prefix in any letter case.
        if key.to_ascii_lowercase().starts_with(AWS_TAG_PREFIX) {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} starts with {AWS_TAG_PREFIX:?}, which AWS reserves for its own tags; choose another key",
                    key.value
                ),
            );
        } else if key.starts_with(OWN_TAG_PREFIX) {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} starts with {OWN_TAG_PREFIX:?}, which codestar-reconcile reserves for its ownership tags; set `stack:` or `protect:` instead",
                    key.value
                ),
            );
        }
        let value_len = value.chars().count();
        if value_len > TAG_VALUE_MAX {
            c.error(
                value.pos,
                format!(
                    "the value of tag {:?} is {value_len} characters; tag values are 0-{TAG_VALUE_MAX} characters",
                    key.value
                ),
            );
        }
    }
}

pub(super) fn plain_tags(tags: &FileTags) -> Tags {
    tags.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

/// The resource's tags merged over the defaults, checked against the quota
/// the resource will really meet: with our ownership tags added.
pub(super) fn merged_tags(
    c: &mut Checker<'_>,
    kind: &str,
    name: &Located<String>,
    own: &FileTags,
    default_file_tags: &FileTags,
    default_tags: &Tags,
    protect: Option<bool>,
) -> Tags {
    check_tags(c, own);
    let mut tags = default_tags.clone();
    tags.extend(plain_tags(own));
    let ownership = 1 + usize::from(protect == Some(true));
    let total = tags.len() + ownership;
    if total > MAX_TAGS {
        c.error(
            name.pos,
            format!(
                "{kind} {:?} would carry {total} tags ({} from default_tags, {} of its own, {ownership} ownership tag{}); AWS allows at most {MAX_TAGS} tags per resource",
                name.value,
                default_file_tags.len(),
                own.len(),
                if ownership == 1 { "" } else { "s" },
            ),
        );
    }
    tags
}
