//! Opening a target: the SDK clients for one account and Region, built from
//! aws-config's standard chain (environment, profiles, SSO, web identity,
//! instance roles), or pointed at the in-process emulator for `--local`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_codestarconnections::config::Region;

use aws_sdk_codestarconnections::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls;

use crate::error::{Error, Result};
use crate::spec::Target;

/// The flags every command that talks to AWS shares.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Named profile from ~/.aws/config (overrides the file's `profile:`).
    #[arg(long)]
    pub profile: Option<String>,
    /// Region; a Region pinned in the file wins, and a different one here is an error.
    #[arg(long)]
    pub region: Option<String>,
    /// Send API calls to this endpoint (AWS_ENDPOINT_URL and
    /// AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS are honoured too).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Run against a built-in local emulator instead of AWS (no account needed).
    #[arg(long, conflicts_with_all = ["endpoint_url", "profile"])]
    pub local: bool,
    /// Where `--local` keeps its state.
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".codestar-local.json",
        requires = "local"
    )]
    pub local_state: PathBuf,
    /// API calls in flight at once, per target.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Clients for one target, and where they point.
#[derive(Debug, Clone)]
pub struct Account {
    /// With the SDK's retries off; call it through `call::paced`.
    pub codestar: aws_sdk_codestarconnections::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
}

/// Where calls go: AWS through the standard chain, or a local endpoint with
/// fixed test credentials.
#[derive(Debug, Clone)]
pub enum Endpoint {
    Aws,
    Local { url: String },
}

/// The Region a target runs in: the file's pin, else `--region`, else the
/// standard chain's. A `--region` that contradicts the file is an error.
pub fn pinned_region(target: &Target, args: &AwsArgs) -> Result<Option<String>> {
    match (&target.region, &args.region) {
        (Some(file), Some(flag)) if file != flag => Err(Error::usage(format!(
            "{} pins region {file}, but --region {flag} was given; drop --region or change the file",
            target.source.display()
        ))),
        (Some(file), _) => Ok(Some(file.clone())),
        (None, flag) => Ok(flag.clone()),
    }
}

/// The one HTTPS client every target's SDK clients share: one TLS
/// configuration and one connection pool, where the SDK's default builds
/// them per client (and `apply` and `live` derive clients per target).
/// The same construction as the SDK's default for the latest behaviour
/// version, proxy settings from the environment included.
fn shared_http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new().build_with_connector_fn(
                |settings, components| {
                    let mut connector = aws_smithy_http_client::ConnectorBuilder::default()
                        .tls_provider(tls::Provider::Rustls(
                            tls::rustls_provider::CryptoMode::Ring,
                        ));
                    connector.set_connector_settings(settings.cloned());
                    if let Some(components) = components {
                        connector.set_sleep_impl(components.sleep_impl());
                    }
                    connector.set_proxy_config(Some(ProxyConfig::from_env()));
                    connector.build()
                },
            )
        })
        .clone()
}

/// Build the clients for `target`.
pub async fn connect(target: &Target, args: &AwsArgs, endpoint: &Endpoint) -> Result<Account> {
    let region = pinned_region(target, args)?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(shared_http_client())
        // For STS and the credential providers. CodeStar calls opt out below.
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(8)
                .with_initial_backoff(Duration::from_millis(100)),
        )
        // Every request and answer here is a few hundred bytes of JSON; the
        // attempt timeout below bounds a stalled one. The protection meant
        // for long streams cost a timer and a future per request (about 5%
        // of a fleet plan's CPU).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        );
    if let Some(region) = &region {
        loader = loader.region(Region::new(region.clone()));
    }
    match endpoint {
        Endpoint::Aws => {
            if let Some(profile) = args.profile.as_ref().or(target.profile.as_ref()) {
                loader = loader.profile_name(profile);
            }
            if let Some(url) = &args.endpoint_url {
                loader = loader.endpoint_url(url);
            }
        }
        Endpoint::Local { url } => {
            loader = loader
                .endpoint_url(url)
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
            if region.is_none() {
                loader = loader.region(Region::new(LOCAL_DEFAULT_REGION));
            }
        }
    }
    let config = loader.load().await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(Error::usage(format!(
            "no AWS Region for {}: add `region:` to the file, pass --region, or set AWS_REGION",
            target.source.display()
        )));
    };
    Ok(Account {
        // No SDK retries: `call::paced` paces and retries every CodeStar
        // call, because a blind retry of a create can duplicate a resource
        // and the SDK's adaptive limiter stalls a throttled fleet for
        // seconds.
        codestar: aws_sdk_codestarconnections::Client::from_conf(
            aws_sdk_codestarconnections::config::Builder::from(&config)
                .retry_config(RetryConfig::disabled())
                .build(),
        ),
        sts: aws_sdk_sts::Client::new(&config),
        region,
    })
}

/// The Region `--local` uses when neither the file nor `--region` names one.
pub const LOCAL_DEFAULT_REGION: &str = "us-east-1";

impl Account {
    /// The account id the credentials belong to (STS GetCallerIdentity).
    pub async fn caller_account(&self) -> Result<String> {
        let out = self.sts.get_caller_identity().send().await.map_err(|e| {
            Error::api(
                "sts:GetCallerIdentity",
                format!(
                    "{}; check your AWS credentials",
                    aws_sdk_sts::error::DisplayErrorContext(&e)
                ),
            )
        })?;
        out.account
            .ok_or_else(|| Error::api("sts:GetCallerIdentity", "the response names no account"))
    }

    /// Refuse to go on when the file pins another account than the
    /// credentials reach.
    pub async fn check_account(&self, target: &Target) -> Result<()> {
        let Some(wanted) = &target.account_id else {
            return Ok(());
        };
        let actual = self.caller_account().await?;
        if &actual != wanted {
            return Err(Error::usage(format!(
                "{} pins account_id {wanted}, but the credentials are for account {actual}; \
                 nothing was read or changed. Use credentials for {wanted} (--profile), or fix \
                 account_id",
                target.source.display()
            )));
        }
        Ok(())
    }
}
