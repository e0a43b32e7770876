//! Fleets: a file's `targets:` expanded into one target per account ×
//! Region (`stack@account/region`), each reached by assuming the fleet's
//! role in its account. Organizational units are read through AWS
//! Organizations with the ambient credentials; retired accounts become
//! targets whose desired state is empty; `--shard I/N` keeps the accounts
//! that fall in one shard.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use crate::account::{self, AssumeRole, Endpoint, Settings};
use crate::call::{Channel, Failure, Pace};
use crate::error::{Error, Result};
use crate::plan::saved::desired_digest;
use crate::service::{OrgAccount, Organizations, Page};
use crate::spec::{Fleet, Target};

/// One target of a run before its clients are built.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// A fleet's target: the file with its account and Region pinned (and,
    /// for a retired account, nothing desired).
    pub(crate) spec: Target,
    /// `stack@account/region` for a fleet's target; `None`: `stack@region`,
    /// once the Region is known.
    pub(crate) label: Option<String>,
    /// The role to assume; `None`: the ambient credentials.
    pub(crate) role: Option<AssumeRole>,
    /// The stack leaves this account: everything it owns there goes.
    pub(crate) retired: bool,
    /// The digest of the file's desired state as written (before a fleet
    /// is expanded): what a saved plan binds.
    pub(crate) file_digest: String,
}

/// `--shard I/N`: this run keeps the accounts of shard `index` (1-based) of
/// `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Shard {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

impl Shard {
    /// Parse `I/N`, 1 ≤ I ≤ N.
    pub(crate) fn parse(text: &str) -> std::result::Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not I/N, e.g. 1/4"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("{i:?} is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count} does not exist: shards are numbered 1 to N"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether `key` (an account id) falls in this shard: a stable hash
    /// (FNV-1a), the same on every machine and in every version.
    pub(crate) fn keeps(self, key: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in key.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A fleet file and every account it names (targeted or retired), for the
/// scan of the organisation's other accounts.
#[derive(Debug, Clone)]
pub(crate) struct Expanded {
    pub(crate) spec: Target,
    pub(crate) accounts: BTreeSet<String>,
}

/// Every target of `specs`: a fleet file's accounts × Regions (OUs read
/// from the organisation), retired accounts with nothing desired, the rest
/// as they are; then only those of `shard`. Also each fleet file with its
/// accounts.
pub(crate) async fn expand(
    specs: Vec<Target>,
    args: &Settings,
    endpoint: &Endpoint,
    shard: Option<Shard>,
) -> Result<(Vec<Placed>, Vec<Expanded>)> {
    let mut placed = Vec::new();
    let mut fleets = Vec::new();
    for spec in specs {
        let file_digest = desired_digest(&spec);
        let Some(fleet) = spec.fleet.clone() else {
            placed.push(Placed {
                spec,
                label: None,
                role: None,
                retired: false,
                file_digest,
            });
            continue;
        };
        if let Some(region) = &args.region {
            return Err(Error::usage(format!(
                "{} names its Regions under targets.regions; --region {region} cannot be used with it",
                spec.source.display()
            )));
        }
        let mut accounts: BTreeSet<String> = fleet.accounts.iter().cloned().collect();
        if !fleet.organizational_units.is_empty() {
            let found = accounts_of_units(&spec, &fleet, args, endpoint).await?;
            accounts.extend(found);
        }
        for excluded in &fleet.exclude_accounts {
            accounts.remove(excluded);
        }
        let retired: BTreeSet<String> = fleet
            .retired_accounts
            .iter()
            .filter(|a| !fleet.exclude_accounts.contains(a))
            .cloned()
            .collect();
        for (account, is_retired) in accounts
            .iter()
            .map(|a| (a, false))
            .chain(retired.iter().map(|a| (a, true)))
        {
            for region in &fleet.regions {
                let mut one = place(&spec, &fleet, account, region, is_retired);
                one.file_digest.clone_from(&file_digest);
                placed.push(one);
            }
        }
        fleets.push(Expanded {
            spec,
            accounts: accounts.union(&retired).cloned().collect(),
        });
    }
    if let Some(shard) = shard {
        placed.retain(|p| shard.keeps(&shard_key(p)));
    }
    Ok((placed, fleets))
}

/// The targets of the organisation's accounts a fleet does not name, to
/// look for this stack's resources left there (one per account × Region).
pub(crate) fn outside(expanded: &Expanded, organization: &[String]) -> Vec<Placed> {
    let Some(fleet) = &expanded.spec.fleet else {
        return Vec::new();
    };
    organization
        .iter()
        .filter(|a| !expanded.accounts.contains(*a))
        .flat_map(|account| {
            fleet
                .regions
                .iter()
                .map(move |region| place(&expanded.spec, fleet, account, region, false))
        })
        .collect()
}

/// What a target is sharded by: its account id; a file of one target
/// without `account_id:`, by its path.
fn shard_key(placed: &Placed) -> String {
    placed
        .spec
        .account_id
        .clone()
        .unwrap_or_else(|| placed.spec.source.display().to_string())
}

/// One account × Region of a fleet.
fn place(spec: &Target, fleet: &Fleet, account: &str, region: &str, retired: bool) -> Placed {
    let mut target = spec.clone();
    target.fleet = None;
    target.region = Some(region.to_owned());
    target.account_id = Some(account.to_owned());
    if retired {
        target.hosts.clear();
        target.connections.clear();
        target.repository_links.clear();
        target.sync_configurations.clear();
    }
    Placed {
        label: Some(format!("{}@{account}/{region}", spec.stack)),
        role: Some(AssumeRole {
            role_arn: fleet.role_in(account),
            external_id: fleet.external_id.clone(),
            session_name: fleet.session_name.clone(),
            duration: fleet.duration,
        }),
        retired,
        spec: target,
        file_digest: String::new(),
    }
}

/// The Region Organizations is called in: its endpoint is global, in
/// us-east-1 for AWS's commercial partition.
const ORGANIZATIONS_REGION: &str = "us-east-1";

/// The organisation's client, from the ambient credentials.
pub(crate) async fn organization(
    spec: &Target,
    args: &Settings,
    endpoint: &Endpoint,
) -> Result<(Organizations, Channel)> {
    let mut at = spec.clone();
    at.fleet = None;
    at.account_id = None;
    at.region = Some(ORGANIZATIONS_REGION.to_owned());
    let config = account::load_config(&at, args, endpoint).await?;
    let url = match endpoint {
        Endpoint::Local { url, .. } => url.clone(),
        Endpoint::Aws => config.endpoint_url().map(str::to_owned).unwrap_or_else(|| {
            format!("https://organizations.{ORGANIZATIONS_REGION}.amazonaws.com")
        }),
    };
    Ok((
        Organizations::new(&config),
        Channel::new(url, args.timeout, Arc::new(Pace::default())),
    ))
}

/// Every ACTIVE account below the fleet's organizational units, recursively.
async fn accounts_of_units(
    spec: &Target,
    fleet: &Fleet,
    args: &Settings,
    endpoint: &Endpoint,
) -> Result<Vec<String>> {
    let (org, channel) = organization(spec, args, endpoint).await?;
    let mut found = Vec::new();
    let mut units: VecDeque<String> = fleet.organizational_units.iter().cloned().collect();
    while let Some(unit) = units.pop_front() {
        let accounts: Vec<OrgAccount> =
            every_page(&channel, |next| org.accounts_below(&unit, next))
                .await
                .map_err(|f| unreadable(spec, &unit, &f))?;
        found.extend(
            accounts
                .into_iter()
                .filter(OrgAccount::is_active)
                .map(|a| a.id),
        );
        let below = every_page(&channel, |next| org.units_below(&unit, next))
            .await
            .map_err(|f| unreadable(spec, &unit, &f))?;
        units.extend(below);
    }
    Ok(found)
}

/// Every ACTIVE account of the organisation.
pub(crate) async fn organization_accounts(
    org: &Organizations,
    channel: &Channel,
) -> std::result::Result<Vec<String>, Failure> {
    Ok(every_page(channel, |next| org.accounts(next))
        .await?
        .into_iter()
        .filter(OrgAccount::is_active)
        .map(|a| a.id)
        .collect())
}

/// Every page of a list, to the end: Organizations may answer an empty page
/// with a token before the last.
async fn every_page<'a, T, F>(
    channel: &Channel,
    mut fetch: F,
) -> std::result::Result<Vec<T>, Failure>
where
    F: FnMut(Option<String>) -> crate::service::Call<'a, Page<T>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = channel.call(true, || fetch(token.clone())).await?;
        items.extend(page.items);
        token = page.next;
        if token.is_none() {
            return Ok(items);
        }
    }
}

fn unreadable(spec: &Target, unit: &str, failure: &Failure) -> Error {
    Error::api(
        format!(
            "reading organizational unit {unit} of {} through AWS Organizations",
            spec.source.display()
        ),
        format!(
            "{}. Organizations answers the management account and delegated administrators: \
             run with their credentials, or list the accounts under targets.accounts",
            failure.message()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_split_accounts_stably_and_completely() {
        assert!(Shard::parse("0/4").is_err());
        assert!(Shard::parse("5/4").is_err());
        assert!(Shard::parse("2").is_err());
        let shards: Vec<Shard> = (1..=4)
            .map(|i| Shard::parse(&format!("{i}/4")).unwrap())
            .collect();
        let accounts: Vec<String> = (0..400).map(|i| format!("{:012}", 100_000 + i)).collect();
        let mut sizes = [0usize; 4];
        for account in &accounts {
            let owners: Vec<usize> = (0..4).filter(|&s| shards[s].keeps(account)).collect();
            assert_eq!(owners.len(), 1, "{account} is in exactly one shard");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| n > 60), "roughly even: {sizes:?}");
        // Stable: the same account, the same shard, in any run.
        assert!(
            Shard::parse("3/4").unwrap().keeps("111111111111") == shards[2].keeps("111111111111")
        );
    }
}
