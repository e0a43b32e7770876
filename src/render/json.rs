//! The JSON view: the [`Plan`] value itself, so machines read exactly what
//! the text and markdown views were made from.

use crate::plan::Plan;

/// The plan as pretty-printed JSON (`format_version` "1"), ending in a
/// newline so it is a well-formed text file when redirected.
pub fn plan_json(plan: &Plan) -> String {
    // A plan is strings, numbers and string-keyed maps: serialising it into
    // memory cannot fail.
    let mut json = serde_json::to_string_pretty(plan).expect("a Plan always serialises");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn sample_plan_json() {
        insta::assert_snapshot!(plan_json(&fixtures::sample()));
    }

    #[test]
    fn json_round_trips_to_an_equal_plan() {
        let plan = fixtures::sample();
        let back: Plan = serde_json::from_str(&plan_json(&plan)).expect("the JSON parses");
        assert_eq!(back, plan);
    }

    #[test]
    fn json_has_the_documented_keys() {
        let value: serde_json::Value =
            serde_json::from_str(&plan_json(&fixtures::sample())).unwrap();
        assert_eq!(value["format_version"], "1");
        assert!(value["targets"].is_array());
        assert!(value["refusals"].is_array());
        for key in ["create", "update", "replace", "delete", "adopt"] {
            assert!(value["summary"][key].is_u64(), "summary.{key}");
        }
        let changes = value["changes"].as_array().unwrap();
        assert!(!changes.is_empty());
        for change in changes {
            for key in [
                "action", "kind", "name", "target", "reason", "before", "after",
            ] {
                assert!(change.get(key).is_some(), "change.{key} in {change}");
            }
            let action = change["action"].as_str().unwrap();
            assert!(["create", "update", "replace", "delete", "adopt"].contains(&action));
            assert!(["connection", "host"].contains(&change["kind"].as_str().unwrap()));
        }
    }
}
