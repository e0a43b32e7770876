//! The handshake worklist: every connection or host that waits for a person
//! to complete its handshake (or its set-up) in the AWS console, or will
//! once apply creates it, with where to do it. In a fleet, connections start
//! PENDING in every account; this list is what someone works through.

use crate::live::Snapshot;
use crate::plan::{Action, Change, Handshake, Waiting};
use crate::resource::{Kind, Ownership, ownership};
use crate::spec::Target;

/// The console page where a person completes a connection's handshake or a
/// host's set-up, in `region` (signed in to the account): the Developer
/// Tools console's connections settings, where AWS's guides send people
/// (hosts are a tab of the same page).
pub(crate) fn console_page(region: &str) -> String {
    format!("https://console.aws.amazon.com/codesuite/settings/connections?region={region}")
}

/// The worklist of one target: its stack's PENDING connections and hosts in
/// `live` (those the plan keeps), then those `changes` create or replace.
pub(crate) fn of_target(
    target: &Target,
    label: &str,
    region: &str,
    live: &Snapshot,
    changes: &[Change],
) -> Vec<Handshake> {
    let leaving = |kind: Kind, arn: &str| {
        changes.iter().any(|c| {
            c.kind == kind
                && matches!(c.action, Action::Delete | Action::Replace)
                && c.arn.as_deref() == Some(arn)
        })
    };
    let item = |kind, name: &str, arn: Option<&str>, waiting| Handshake {
        target: label.to_owned(),
        account_id: target.account_id.clone(),
        region: region.to_owned(),
        kind,
        name: name.to_owned(),
        arn: arn.map(str::to_owned),
        waiting,
        console: console_page(region),
    };
    let mut list = Vec::new();
    let ours = |tags| ownership(tags, &target.stack) == Ownership::Managed;
    for h in &live.hosts {
        if h.status == "PENDING" && ours(&h.tags) && !leaving(Kind::Host, &h.arn) {
            list.push(item(Kind::Host, &h.name, Some(&h.arn), Waiting::Now));
        }
    }
    for c in &live.connections {
        if c.status == "PENDING" && ours(&c.tags) && !leaving(Kind::Connection, &c.arn) {
            list.push(item(Kind::Connection, &c.name, Some(&c.arn), Waiting::Now));
        }
    }
    for c in changes {
        if matches!(c.kind, Kind::Connection | Kind::Host)
            && matches!(c.action, Action::Create | Action::Replace)
        {
            list.push(item(c.kind, &c.name, None, Waiting::AfterApply));
        }
    }
    list
}
