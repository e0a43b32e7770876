//! Input validation driven by the service models themselves.
//!
//! The emulator embeds AWS's models of both names of the service
//! (`models/*.json`, Apache-2.0, the AWS SDKs' model data, as in
//! `../shared/reference/`) and walks each request against the operation's
//! input shape in the model of the API it was sent to. Validating from the
//! models rather than from hand-written rules keeps the emulator honest:
//! every length limit, pattern and enum the real service declares is
//! enforced, and nothing else (the older API's host ARN pattern, for one,
//! accepts only its own prefix).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::resource::Api;

/// The service models, as AWS publishes them.
const CODESTAR_JSON: &str = include_str!("models/codestar-connections-2019-12-01.json");
const CODECONNECTIONS_JSON: &str = include_str!("models/codeconnections-2023-12-01.json");

/// The parsed models plus their compiled patterns, built once per process.
static CODESTAR: LazyLock<Model> = LazyLock::new(|| Model::load(CODESTAR_JSON));
static CODECONNECTIONS: LazyLock<Model> = LazyLock::new(|| Model::load(CODECONNECTIONS_JSON));

fn model(api: Api) -> &'static Model {
    match api {
        Api::CodestarConnections => &CODESTAR,
        Api::Codeconnections => &CODECONNECTIONS,
    }
}

/// The shapes of the model and a compiled regex per string shape with a pattern.
struct Model {
    operations: Map<String, Value>,
    shapes: Map<String, Value>,
    patterns: HashMap<String, Regex>,
}

impl Model {
    fn load(json: &str) -> Model {
        // The models are compiled into the binary and checked by the tests,
        // so a failure here is a build defect, not a request error.
        let root: Value = serde_json::from_str(json).expect("embedded service model is JSON");
        let operations = root["operations"].as_object().cloned().unwrap_or_default();
        let shapes = root["shapes"].as_object().cloned().unwrap_or_default();
        let patterns = shapes
            .iter()
            .filter_map(|(name, shape)| {
                let pattern = shape.get("pattern")?.as_str()?;
                // The model's patterns are Java regexes meant to match the whole
                // value; anchor them so a match anywhere is not enough.
                let regex = Regex::new(&format!("^(?:{pattern})$"))
                    .expect("embedded service model patterns compile");
                Some((name.clone(), regex))
            })
            .collect();
        Model {
            operations,
            shapes,
            patterns,
        }
    }
}

/// The names of the operations a model declares, in model order.
#[cfg(test)]
pub(super) fn operation_names(api: Api) -> Vec<&'static str> {
    model(api).operations.keys().map(String::as_str).collect()
}

/// Whether the model of `api` declares this operation.
pub(super) fn has_operation(api: Api, name: &str) -> bool {
    model(api).operations.contains_key(name)
}

/// Validate a request body against the input shape of `operation` in the
/// model of `api`. Returns every violation found, each phrased as AWS
/// phrases them.
pub(super) fn validate_input(api: Api, operation: &str, input: &Value) -> Vec<String> {
    let model = model(api);
    let mut errors = Vec::new();
    let shape = model
        .operations
        .get(operation)
        .and_then(|op| op["input"]["shape"].as_str());
    if let Some(shape) = shape {
        validate(model, shape, input, "", &mut errors);
    }
    errors
}

/// The members of `operation`'s output, of `api`'s model, that are
/// timestamps (at any depth), by member name: the CBOR protocol tags them.
pub(super) fn timestamp_members(api: Api, operation: &str) -> Vec<&'static str> {
    let model = model(api);
    let mut found = Vec::new();
    let mut seen = Vec::new();
    if let Some(shape) = model
        .operations
        .get(operation)
        .and_then(|op| op["output"]["shape"].as_str())
    {
        collect_timestamps(model, shape, &mut found, &mut seen);
    }
    found
}

/// Drop from `output` every member that `operation`'s output shape, in the
/// model of `api`, does not have (at any depth): the older API's model
/// lacks members the newer one added (`PullRequestComment`), and its
/// clients must not be answered what AWS would not send them.
pub(super) fn trim_output(api: Api, operation: &str, output: &mut Value) {
    let model = model(api);
    if let Some(shape) = model
        .operations
        .get(operation)
        .and_then(|op| op["output"]["shape"].as_str())
    {
        trim(model, shape, output);
    }
}

fn trim(model: &Model, shape_name: &str, value: &mut Value) {
    let Some(shape) = model.shapes.get(shape_name) else {
        return;
    };
    match (shape["type"].as_str(), value) {
        (Some("structure"), Value::Object(object)) => {
            let members = &shape["members"];
            object.retain(|name, _| members.get(name).is_some());
            for (name, member) in object.iter_mut() {
                if let Some(target) = members[name.as_str()]["shape"].as_str() {
                    trim(model, target, member);
                }
            }
        }
        (Some("list"), Value::Array(items)) => {
            if let Some(target) = shape["member"]["shape"].as_str() {
                for item in items {
                    trim(model, target, item);
                }
            }
        }
        (Some("map"), Value::Object(entries)) => {
            if let Some(target) = shape["value"]["shape"].as_str() {
                for entry in entries.values_mut() {
                    trim(model, target, entry);
                }
            }
        }
        _ => {}
    }
}

fn collect_timestamps(
    model: &'static Model,
    shape_name: &str,
    found: &mut Vec<&'static str>,
    seen: &mut Vec<String>,
) {
    if seen.iter().any(|s| s == shape_name) {
        return;
    }
    seen.push(shape_name.to_owned());
    let Some(shape) = model.shapes.get(shape_name) else {
        return;
    };
    let mut visit = |name: Option<&'static str>, target: &str| {
        if model.shapes.get(target).and_then(|s| s["type"].as_str()) == Some("timestamp") {
            if let Some(name) = name {
                found.push(name);
            }
        } else {
            collect_timestamps(model, target, found, seen);
        }
    };
    match shape["type"].as_str() {
        Some("structure") => {
            for (name, member) in shape["members"].as_object().into_iter().flatten() {
                if let Some(target) = member["shape"].as_str() {
                    visit(Some(name.as_str()), target);
                }
            }
        }
        Some("list") => {
            if let Some(target) = shape["member"]["shape"].as_str() {
                visit(None, target);
            }
        }
        Some("map") => {
            if let Some(target) = shape["value"]["shape"].as_str() {
                visit(None, target);
            }
        }
        _ => {}
    }
}

/// The message of a `ValidationException` that reports `errors`, AWS style:
/// `1 validation error detected: ...` or `2 validation errors detected: ...; ...`.
pub(super) fn validation_message(errors: &[String]) -> String {
    let noun = if errors.len() == 1 { "error" } else { "errors" };
    format!(
        "{} validation {noun} detected: {}",
        errors.len(),
        errors.join("; ")
    )
}

/// AWS names members in validation messages with a lowercase first letter
/// (`connectionName` for `ConnectionName`).
fn member_path(parent: &str, member: &str) -> String {
    let mut chars = member.chars();
    let lowered: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    if parent.is_empty() {
        lowered
    } else {
        format!("{parent}.{lowered}")
    }
}

fn violation(path: &str, constraint: &str) -> String {
    format!("Value at '{path}' failed to satisfy constraint: {constraint}")
}

fn validate(model: &Model, shape_name: &str, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(shape) = model.shapes.get(shape_name) else {
        return;
    };
    let kind = shape["type"].as_str().unwrap_or_default();
    match kind {
        "structure" => validate_structure(model, shape, value, path, errors),
        "list" => validate_list(model, shape, value, path, errors),
        "map" => validate_map(model, shape, value, path, errors),
        "string" => validate_string(model, shape_name, shape, value, path, errors),
        "integer" | "long" => validate_integer(shape, value, path, errors),
        "boolean" if !value.is_boolean() => {
            errors.push(violation(path, "Member must be a boolean"));
        }
        _ => {}
    }
}

fn validate_structure(
    model: &Model,
    shape: &Value,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let Some(object) = value.as_object() else {
        errors.push(violation(path, "Member must be a structure"));
        return;
    };
    let empty = Map::new();
    let members = shape["members"].as_object().unwrap_or(&empty);
    for required in shape["required"].as_array().into_iter().flatten() {
        let Some(name) = required.as_str() else {
            continue;
        };
        if object.get(name).is_none_or(Value::is_null) {
            errors.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                member_path(path, name)
            ));
        }
    }
    for (name, member_value) in object {
        let member = member_path(path, name);
        let Some(target) = members.get(name).and_then(|m| m["shape"].as_str()) else {
            errors.push(violation(&member, "Member is not part of the input shape"));
            continue;
        };
        // JSON null is how some clients spell "absent".
        if !member_value.is_null() {
            validate(model, target, member_value, &member, errors);
        }
    }
}

fn validate_list(
    model: &Model,
    shape: &Value,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let Some(items) = value.as_array() else {
        errors.push(violation(path, "Member must be a list"));
        return;
    };
    check_length(shape, items.len(), path, errors);
    let Some(member) = shape["member"]["shape"].as_str() else {
        return;
    };
    for (index, item) in items.iter().enumerate() {
        // AWS numbers list members from 1: `tags.1.member.key`.
        let item_path = format!("{path}.{}.member", index + 1);
        if item.is_null() {
            errors.push(violation(&item_path, "Member must not be null"));
        } else {
            validate(model, member, item, &item_path, errors);
        }
    }
}

fn validate_map(model: &Model, shape: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(entries) = value.as_object() else {
        errors.push(violation(path, "Member must be a map"));
        return;
    };
    check_length(shape, entries.len(), path, errors);
    let key_shape = shape["key"]["shape"].as_str();
    let value_shape = shape["value"]["shape"].as_str();
    for (key, entry) in entries {
        if let Some(key_shape) = key_shape {
            validate(model, key_shape, &Value::String(key.clone()), path, errors);
        }
        if let Some(value_shape) = value_shape {
            validate(model, value_shape, entry, &format!("{path}.{key}"), errors);
        }
    }
}

fn validate_string(
    model: &Model,
    shape_name: &str,
    shape: &Value,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let Some(text) = value.as_str() else {
        errors.push(violation(path, "Member must be a string"));
        return;
    };
    // Lengths count characters, as the service's Java validators do for the
    // characters this service accepts.
    check_length(shape, text.chars().count(), path, errors);
    if let Some(allowed) = shape["enum"].as_array() {
        if !allowed.iter().any(|a| a.as_str() == Some(text)) {
            let set: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
            errors.push(violation(
                path,
                &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
            ));
        }
        return;
    }
    if let Some(regex) = model.patterns.get(shape_name)
        && !regex.is_match(text)
    {
        let pattern = shape["pattern"].as_str().unwrap_or_default();
        errors.push(violation(
            path,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ));
    }
}

fn validate_integer(shape: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(number) = value.as_i64() else {
        errors.push(violation(path, "Member must be an integer"));
        return;
    };
    if let Some(min) = shape["min"].as_i64().filter(|min| number < *min) {
        errors.push(violation(
            path,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if let Some(max) = shape["max"].as_i64().filter(|max| number > *max) {
        errors.push(violation(
            path,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
}

/// Min/max on strings, lists and maps: AWS words all three as "length".
fn check_length(shape: &Value, length: usize, path: &str, errors: &mut Vec<String>) {
    let length = length as u64;
    if let Some(min) = shape["min"].as_u64().filter(|min| length < *min) {
        errors.push(violation(
            path,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if let Some(max) = shape["max"].as_u64().filter(|max| length > *max) {
        errors.push(violation(
            path,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OLD: Api = Api::CodestarConnections;
    const NEW: Api = Api::Codeconnections;

    #[test]
    fn both_models_declare_the_same_twenty_seven_operations() {
        assert_eq!(operation_names(OLD).len(), 27);
        assert_eq!(operation_names(OLD), operation_names(NEW));
        assert!(has_operation(NEW, "CreateRepositoryLink"));
        assert!(!has_operation(NEW, "CreateBucket"));
    }

    #[test]
    fn the_older_api_takes_host_arns_of_its_own_prefix_only() {
        let old = "arn:aws:codestar-connections:eu-west-1:123456789012:host/ghes-0123abcd";
        let new = "arn:aws:codeconnections:eu-west-1:123456789012:host/ghes-0123abcd";
        for (api, arn, ok) in [
            (OLD, old, true),
            (OLD, new, false),
            (NEW, old, true),
            (NEW, new, true),
        ] {
            let errors = validate_input(api, "GetHost", &json!({ "HostArn": arn }));
            assert_eq!(errors.is_empty(), ok, "{api} {arn}: {errors:?}");
        }
    }

    #[test]
    fn timestamps_of_an_output_are_found_at_any_depth() {
        assert_eq!(
            timestamp_members(NEW, "ListConnections"),
            Vec::<&str>::new()
        );
        let blockers = timestamp_members(NEW, "GetSyncBlockerSummary");
        assert!(blockers.contains(&"CreatedAt"), "{blockers:?}");
    }

    #[test]
    fn outputs_are_trimmed_to_the_model_of_the_api_asked() {
        let configuration = json!({
            "Branch": "main",
            "ResourceName": "app",
            "PullRequestComment": "ENABLED",
        });
        let mut old = json!({ "SyncConfigurations": [configuration.clone()], "NextToken": "t" });
        trim_output(OLD, "ListSyncConfigurations", &mut old);
        assert_eq!(
            old,
            json!({ "SyncConfigurations": [{"Branch": "main", "ResourceName": "app"}], "NextToken": "t" })
        );
        let mut new = json!({ "SyncConfiguration": configuration.clone(), "Extra": 1 });
        trim_output(NEW, "GetSyncConfiguration", &mut new);
        assert_eq!(new, json!({ "SyncConfiguration": configuration }));
    }

    #[test]
    fn reports_every_violation_with_aws_member_paths() {
        let errors = validate_input(
            OLD,
            "CreateConnection",
            &json!({
                "ConnectionName": "x".repeat(33),
                "ProviderType": "Svn",
                "Tags": [{"Key": "", "Value": "v"}, {"Key": "k"}],
                "Extra": 1
            }),
        );
        assert_eq!(errors.len(), 5, "{errors:#?}");
        let message = validation_message(&errors);
        assert!(message.starts_with("5 validation errors detected: "));
        assert!(message.contains(
            "Value at 'connectionName' failed to satisfy constraint: Member must have length less than or equal to 32"
        ));
        assert!(message.contains("'providerType'"));
        assert!(message.contains("'tags.1.member.key'"));
        assert!(message.contains("Value null at 'tags.2.member.value'"));
        assert!(message.contains("'extra'"));
    }

    #[test]
    fn patterns_are_anchored() {
        let ok = "arn:aws:codeconnections:eu-west-1:123456789012:host/ghes-0123abcd";
        assert!(validate_input(NEW, "GetHost", &json!({ "HostArn": ok })).is_empty());
        let bad = "xarn:aws:codestar-connections:eu-west-1:123456789012:host/a";
        assert_eq!(
            validate_input(NEW, "GetHost", &json!({ "HostArn": bad })).len(),
            1
        );
        let vpc = json!({"VpcId": "vpc-12345678", "SubnetIds": ["subnet-1234567"], "SecurityGroupIds": ["sg-12345678"]});
        let errors = validate_input(
            NEW,
            "UpdateHost",
            &json!({"HostArn": ok, "VpcConfiguration": vpc}),
        );
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].contains("vpcConfiguration.subnetIds.1.member"));
    }

    #[test]
    fn wrong_json_types_are_validation_errors() {
        let errors = validate_input(OLD, "ListHosts", &json!({"MaxResults": "ten"}));
        assert_eq!(
            errors,
            vec!["Value at 'maxResults' failed to satisfy constraint: Member must be an integer"]
        );
        let errors = validate_input(OLD, "ListHosts", &json!({"MaxResults": 101}));
        assert!(errors[0].contains("less than or equal to 100"));
        assert!(!validate_input(OLD, "ListHosts", &json!([])).is_empty());
    }
}
