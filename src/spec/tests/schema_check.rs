//! Just enough of a JSON Schema (draft-07) validator for the keywords our
//! generated schema uses, so tests can check that the schema editors see
//! agrees with the loader, without pulling a validator crate (and its HTTP
//! stack) into the build.

use regex::Regex;
use serde_json::Value;

/// Every violation of `schema` by `value`, as `path: problem` lines.
pub(super) fn violations(root: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(root, root, value, "$", &mut out);
    out
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/definitions/");
            &root["definitions"][name]
        }
        None => schema,
    }
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        other => panic!("schema uses type {other}, which this checker does not know"),
    }
}

fn check(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(root, schema);
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (key, rule) in obj {
        match key.as_str() {
            "type" => {
                let ok = match rule {
                    Value::String(t) => type_matches(t, value),
                    Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), value)),
                    _ => false,
                };
                if !ok {
                    out.push(format!("{path}: not of type {rule}"));
                }
            }
            "properties" => {
                if let Some(map) = value.as_object() {
                    for (k, sub) in rule.as_object().unwrap() {
                        if let Some(v) = map.get(k) {
                            check(root, sub, v, &format!("{path}.{k}"), out);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(map) = value.as_object() {
                    let known = obj.get("properties").and_then(Value::as_object);
                    for (k, v) in map {
                        if known.is_some_and(|p| p.contains_key(k)) {
                            continue;
                        }
                        match rule {
                            Value::Bool(false) => out.push(format!("{path}: unknown key {k}")),
                            Value::Object(_) => check(root, rule, v, &format!("{path}.{k}"), out),
                            _ => {}
                        }
                    }
                }
            }
            "required" => {
                if let Some(map) = value.as_object() {
                    for k in rule.as_array().unwrap() {
                        if !map.contains_key(k.as_str().unwrap()) {
                            out.push(format!("{path}: missing {k}"));
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        check(root, rule, v, &format!("{path}[{i}]"), out);
                    }
                }
            }
            "enum" => {
                if !value.is_null() && !rule.as_array().unwrap().contains(value) {
                    out.push(format!("{path}: {value} not in {rule}"));
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    let re = Regex::new(rule.as_str().unwrap()).unwrap();
                    if !re.is_match(s) {
                        out.push(format!("{path}: {s:?} does not match {rule}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let Some(s) = value.as_str() {
                    let n = s.chars().count() as u64;
                    let limit = rule.as_u64().unwrap();
                    if (key == "minLength" && n < limit) || (key == "maxLength" && n > limit) {
                        out.push(format!("{path}: length {n} breaks {key} {limit}"));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Some(a) = value.as_array() {
                    let n = a.len() as u64;
                    let limit = rule.as_u64().unwrap();
                    if (key == "minItems" && n < limit) || (key == "maxItems" && n > limit) {
                        out.push(format!("{path}: {n} items breaks {key} {limit}"));
                    }
                }
            }
            "uniqueItems" => {
                if let Some(a) = value.as_array()
                    && rule == &Value::Bool(true)
                {
                    for (i, v) in a.iter().enumerate() {
                        if a[..i].contains(v) {
                            out.push(format!("{path}: {v} is repeated"));
                        }
                    }
                }
            }
            "minimum" | "maximum" => {
                if let Some(n) = value.as_f64() {
                    let limit = rule.as_f64().unwrap();
                    if (key == "minimum" && n < limit) || (key == "maximum" && n > limit) {
                        out.push(format!("{path}: {n} breaks {key} {limit}"));
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let passing = rule
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| {
                        let mut inner = Vec::new();
                        check(root, sub, value, path, &mut inner);
                        inner.is_empty()
                    })
                    .count();
                if (key == "oneOf" && passing != 1) || (key == "anyOf" && passing == 0) {
                    out.push(format!("{path}: {passing} alternatives of {key} match"));
                }
            }
            "not" => {
                let mut inner = Vec::new();
                check(root, rule, value, path, &mut inner);
                if inner.is_empty() {
                    out.push(format!("{path}: matches a schema it must not ({rule})"));
                }
            }
            "$schema" | "$ref" | "title" | "description" | "definitions" | "default" | "format" => {
            }
            other => panic!("schema uses keyword {other}, which this checker does not know"),
        }
    }
}
