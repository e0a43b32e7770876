//! PLACEHOLDER owned by the render work: replaced by the real renderers.
use crate::plan::Plan;

mod drift;
pub use drift::render_drift;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn detect() -> Style {
        Style { color: false }
    }
}

pub fn render_plan(plan: &Plan, _format: Format, _style: Style) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
