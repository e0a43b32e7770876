//! AWS Organizations, for a fleet's organizational units: the units and
//! ACTIVE accounts below a parent, and every account of the organisation
//! (for `--scan-organization`). One attempt per call, as [`super::Service`]'s
//! are; the channel paces and retries. Organizations pages can be empty
//! before the last, so callers page until there is no token.

use futures_util::FutureExt;

use super::errors::classify;
use super::{Call, Page};

/// Page size of the Organizations lists: the most they allow.
const PAGE_SIZE: i32 = 20;

/// An account of the organisation, and whether it is ACTIVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrgAccount {
    pub(crate) id: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ... as AWS reports it (the
    /// newer `State` where given, else `Status`).
    pub(crate) state: String,
}

impl OrgAccount {
    pub(crate) fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Organizations {
    client: aws_sdk_organizations::Client,
}

impl Organizations {
    /// The client, the SDK's retries off: the channel retries.
    pub(crate) fn new(config: &aws_types::SdkConfig) -> Organizations {
        use aws_sdk_organizations::config::retry::RetryConfig;
        Organizations {
            client: aws_sdk_organizations::Client::from_conf(
                aws_sdk_organizations::config::Builder::from(config)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
        }
    }

    /// The organizational units directly below `parent`.
    pub(crate) fn units_below<'a>(
        &'a self,
        parent: &'a str,
        next: Option<String>,
    ) -> Call<'a, Page<String>> {
        async move {
            let page = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .max_results(PAGE_SIZE)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            Ok(Page {
                items: page
                    .organizational_units()
                    .iter()
                    .filter_map(|u| u.id().map(str::to_owned))
                    .collect(),
                next: page
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            })
        }
        .boxed()
    }

    /// The accounts directly below `parent`.
    pub(crate) fn accounts_below<'a>(
        &'a self,
        parent: &'a str,
        next: Option<String>,
    ) -> Call<'a, Page<OrgAccount>> {
        async move {
            let page = self
                .client
                .list_accounts_for_parent()
                .parent_id(parent)
                .max_results(PAGE_SIZE)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            Ok(Page {
                items: page.accounts().iter().filter_map(org_account).collect(),
                next: page
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            })
        }
        .boxed()
    }

    /// Every account of the organisation.
    pub(crate) fn accounts(&self, next: Option<String>) -> Call<'_, Page<OrgAccount>> {
        async move {
            let page = self
                .client
                .list_accounts()
                .max_results(PAGE_SIZE)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            Ok(Page {
                items: page.accounts().iter().filter_map(org_account).collect(),
                next: page
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            })
        }
        .boxed()
    }
}

fn org_account(account: &aws_sdk_organizations::types::Account) -> Option<OrgAccount> {
    let state = account
        .state()
        .map(|s| s.as_str().to_owned())
        .or_else(|| account.status().map(|s| s.as_str().to_owned()))
        .unwrap_or_default();
    Some(OrgAccount {
        id: account.id()?.to_owned(),
        state,
    })
}
