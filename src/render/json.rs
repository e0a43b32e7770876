//! The JSON view: the [`Plan`] value itself, so machines read exactly what
//! the text and markdown views were made from, with the words those views
//! show beside each typed reason and warning: `reason` (words) and
//! `reason_code` (the typed reason) on each change, `message` beside each
//! warning's `warning`.

use serde_json::Value;

use super::words;
use crate::plan::Plan;

/// The plan as pretty-printed JSON (`format_version` "2"), ending in a
/// newline so it is a well-formed text file when redirected.
pub(crate) fn plan_json(plan: &Plan) -> String {
    // A plan is strings, numbers and string-keyed maps: serialising it into
    // memory cannot fail.
    let mut value = serde_json::to_value(plan).expect("a Plan always serialises");
    if let Some(changes) = value["changes"].as_array_mut() {
        for (json, change) in changes.iter_mut().zip(&plan.changes) {
            if let Value::Object(fields) = json.take() {
                // The words where the typed reason was, the code right after.
                let mut worded = serde_json::Map::new();
                for (key, field) in fields {
                    if key == "reason" {
                        worded.insert(key, Value::String(words::reason(change)));
                        worded.insert("reason_code".to_owned(), field);
                    } else {
                        worded.insert(key, field);
                    }
                }
                *json = Value::Object(worded);
            }
        }
    }
    if let Some(warnings) = value["warnings"].as_array_mut() {
        for (json, warning) in warnings.iter_mut().zip(&plan.warnings) {
            json["message"] = Value::String(words::warning(warning));
        }
    }
    let mut json = serde_json::to_string_pretty(&value).expect("JSON always serialises");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan read back from [`plan_json`]'s output (the words are dropped: the
    /// typed reasons say it all).
    pub(crate) fn plan_from_json(text: &str) -> serde_json::Result<Plan> {
        let mut value: Value = serde_json::from_str(text)?;
        if let Some(changes) = value["changes"].as_array_mut() {
            for json in changes {
                let code = json["reason_code"].take();
                json["reason"] = code;
            }
        }
        serde_json::from_value(value)
    }

    use crate::plan::tests::fixtures;

    #[test]
    fn sample_plan_json() {
        insta::assert_snapshot!(plan_json(&fixtures::sample()));
    }

    #[test]
    fn json_round_trips_to_an_equal_plan() {
        let plan = fixtures::sample();
        let back = plan_from_json(&plan_json(&plan)).expect("the JSON parses");
        assert_eq!(back, plan);
    }

    #[test]
    fn json_has_the_documented_keys() {
        let value: serde_json::Value =
            serde_json::from_str(&plan_json(&fixtures::sample())).unwrap();
        assert_eq!(value["format_version"], "2");
        assert!(value["targets"].is_array());
        assert!(value["refusals"].is_array());
        for key in ["create", "update", "replace", "delete", "adopt"] {
            assert!(value["summary"][key].is_u64(), "summary.{key}");
        }
        let changes = value["changes"].as_array().unwrap();
        assert!(!changes.is_empty());
        for change in changes {
            for key in [
                "action",
                "kind",
                "name",
                "target",
                "reason",
                "reason_code",
                "before",
                "after",
            ] {
                assert!(change.get(key).is_some(), "change.{key} in {change}");
            }
            let action = change["action"].as_str().unwrap();
            assert!(["create", "update", "replace", "delete", "adopt"].contains(&action));
            assert!(["connection", "host"].contains(&change["kind"].as_str().unwrap()));
        }
    }
}
