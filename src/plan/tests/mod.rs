//! Tests of the pure planner: builders that keep each case a few lines long,
//! case-by-case rules, and properties over random files × random accounts.

pub(crate) mod builders;
mod cases;
pub(crate) mod fixtures;
mod links;
mod props;
