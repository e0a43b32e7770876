//! Opening a target: the SDK clients for one account and Region, built from
//! aws-config's standard chain (environment, profiles, SSO, web identity,
//! instance roles), or pointed at the in-process emulator for `--local`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;

use aws_config::Region;
use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;
use aws_types::sdk_config::SharedHttpClient;

use crate::call::{Channel, DEFAULT_TIMEOUT, Failure, Pace};
use crate::error::{Error, Result};
use crate::resource::Api;
use crate::service::{Apis, CodeConnections, CodeStar, Link, Service};
use crate::spec::Target;

/// How a command reaches AWS: what the shared command-line flags say.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// A named profile (overrides a file's `profile:`).
    pub(crate) profile: Option<String>,
    /// A Region; one the file pins wins, and a different one is an error.
    pub(crate) region: Option<String>,
    /// An endpoint URL instead of AWS's.
    pub(crate) endpoint_url: Option<String>,
    /// Run against the built-in emulator, with its state in `local_state`.
    pub(crate) local: bool,
    pub(crate) local_state: PathBuf,
    /// API calls in flight at once, per target.
    pub(crate) concurrency: usize,
    /// How long to wait on one call, all its retries included.
    pub(crate) timeout: Duration,
    /// `--api`: the API to use where a file does not say.
    pub(crate) api: Option<Api>,
    /// `--shard I/N`: only the accounts of that shard.
    pub(crate) shard: Option<crate::fleet::Shard>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            profile: None,
            region: None,
            endpoint_url: None,
            local: false,
            local_state: PathBuf::from(".codestar-local.json"),
            concurrency: 8,
            timeout: DEFAULT_TIMEOUT,
            api: None,
            shard: None,
        }
    }
}

/// Clients for one target, and where they point.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// Both names of the service, each with the channel that paces, bounds
    /// and retries its calls.
    pub(crate) apis: Apis,
    pub(crate) region: String,
    /// Where the calls go, as a saved plan records it: the endpoint URL, or
    /// the `--local` sandbox and its state file.
    pub(crate) place: Place,
}

/// Where a target's calls go, as a saved plan binds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Place {
    /// An AWS endpoint (or one standing in for it), by URL.
    Endpoint(String),
    /// The `--local` sandbox, by the absolute path of its state file.
    Local(PathBuf),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Endpoint(url) => f.write_str(url),
            Place::Local(state) => write!(f, "the --local sandbox ({})", state.display()),
        }
    }
}

/// Where calls go: AWS through the standard chain, or a local endpoint with
/// fixed test credentials (`state`: the `--local` sandbox's state file).
#[derive(Debug, Clone)]
pub(crate) enum Endpoint {
    Aws,
    Local { url: String, state: Option<PathBuf> },
}

/// The Region a target runs in: the file's pin, else `--region`, else the
/// standard chain's. A `--region` that contradicts the file is an error.
pub(crate) fn pinned_region(target: &Target, args: &Settings) -> Result<Option<String>> {
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

/// The one credentials cache of a run: each credentials provider (the
/// ambient chain, each account's assumed role) is asked once and its
/// credentials kept until they expire, however many clients and Regions use
/// it.
///
/// The cache keeps one partition per provider. The SDK's default of 64
/// partitions, past which it evicts one, is meant to catch leaks in a
/// service; a fleet has a provider per account, and evicting them made a
/// 100-account plan assume each role sixteen times over. A run's providers
/// are bounded by its files, so no partition is ever evicted.
fn shared_identity_cache() -> SharedIdentityCache {
    static CACHE: OnceLock<SharedIdentityCache> = OnceLock::new();
    CACHE
        .get_or_init(|| IdentityCache::lazy().max_partitions(usize::MAX).build())
        .clone()
}

/// The SDK configuration for `target` from the ambient credentials: the
/// standard chain (or `--profile`/`profile:`), or the `--local` sandbox's.
///
/// Loaded once per profile, Region and endpoint in a run: each load makes a
/// new credentials chain, which would be asked for credentials (an SSO
/// token, a web identity exchange) once per target instead of once.
pub(crate) async fn load_config(
    target: &Target,
    args: &Settings,
    endpoint: &Endpoint,
) -> Result<aws_config::SdkConfig> {
    type Key = (Option<String>, Option<String>, String, Duration);
    static LOADED: OnceLock<tokio::sync::Mutex<HashMap<Key, aws_config::SdkConfig>>> =
        OnceLock::new();
    let region = pinned_region(target, args)?;
    let profile = match endpoint {
        Endpoint::Aws => args.profile.as_ref().or(target.profile.as_ref()).cloned(),
        Endpoint::Local { .. } => None,
    };
    let place = match endpoint {
        Endpoint::Aws => args.endpoint_url.clone().unwrap_or_default(),
        Endpoint::Local { url, .. } => url.clone(),
    };
    let key = (profile, region.clone(), place, args.timeout);
    let mut loaded = LOADED.get_or_init(Default::default).lock().await;
    if let Some(config) = loaded.get(&key) {
        return Ok(config.clone());
    }
    let config = load_config_afresh(target, args, endpoint, region).await?;
    loaded.insert(key, config.clone());
    Ok(config)
}

async fn load_config_afresh(
    target: &Target,
    args: &Settings,
    endpoint: &Endpoint,
    region: Option<String>,
) -> Result<aws_config::SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(shared_http_client())
        .identity_cache(shared_identity_cache())
        // For STS and the credential providers. CodeStar calls opt out below.
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(8)
                .with_initial_backoff(Duration::from_millis(100)),
        )
        // Every request and answer here is a few hundred bytes of JSON; the
        // channel's deadline bounds a stalled one. The protection meant for
        // long streams cost a timer and a future per request (about 5% of a
        // fleet plan's CPU).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5).min(args.timeout))
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
        Endpoint::Local { url, .. } => {
            loader = loader
                .endpoint_url(url)
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
            if region.is_none() {
                loader = loader.region(Region::new(LOCAL_DEFAULT_REGION));
            }
        }
    }
    Ok(loader.load().await)
}

/// A role to assume in a fleet's account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AssumeRole {
    pub(crate) role_arn: String,
    pub(crate) external_id: Option<String>,
    pub(crate) session_name: Option<String>,
    pub(crate) duration: Option<Duration>,
}

/// The session name when the file gives none.
const SESSION_NAME: &str = "codestar-reconcile";

/// Credentials that assume `role` from `base`'s (aws-config's
/// `AssumeRoleProvider`), asked once per run thanks to the shared
/// credentials cache.
pub(crate) async fn assume(
    base: &aws_config::SdkConfig,
    role: &AssumeRole,
) -> SharedCredentialsProvider {
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.as_deref().unwrap_or(SESSION_NAME))
        .configure(base);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    if let Some(duration) = role.duration {
        builder = builder.session_length(duration);
    }
    SharedCredentialsProvider::new(builder.build().await)
}

/// Build the clients for `target`: with the ambient credentials, or with
/// `credentials` (an assumed role) when given.
pub(crate) async fn connect(
    target: &Target,
    args: &Settings,
    endpoint: &Endpoint,
    credentials: Option<SharedCredentialsProvider>,
) -> Result<Account> {
    let mut config = load_config(target, args, endpoint).await?;
    if let Some(credentials) = credentials {
        config = config
            .into_builder()
            .credentials_provider(credentials)
            .build();
    }
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(Error::usage(format!(
            "no AWS Region for {}: add `region:` to the file, pass --region, or set AWS_REGION",
            target.source.display()
        )));
    };
    let api = pinned_api(target, args)?;
    let url = |api: Api| match endpoint {
        Endpoint::Local { url, .. } => url.clone(),
        Endpoint::Aws => {
            resolved_endpoint(&config, api).unwrap_or_else(|| default_endpoint(api, &region))
        }
    };
    let place = match endpoint {
        Endpoint::Local {
            state: Some(state), ..
        } => Place::Local(state.clone()),
        _ => Place::Endpoint(url(api)),
    };
    let pace = Arc::new(Pace::default());
    let link = |api: Api, service: Arc<dyn Service>| Link {
        service,
        channel: Arc::new(Channel::new(url(api), args.timeout, pace.clone())),
    };
    let apis = Apis::new(
        api,
        link(Api::CodestarConnections, Arc::new(CodeStar::new(&config))),
        link(
            Api::Codeconnections,
            Arc::new(CodeConnections::new(&config)),
        ),
    );
    Ok(Account {
        apis,
        region,
        place,
    })
}

/// The API a target uses: the file's `api:`, else `--api`, else the older
/// name. A `--api` that contradicts the file is an error.
pub(crate) fn pinned_api(target: &Target, args: &Settings) -> Result<Api> {
    match (target.api, args.api) {
        (Some(file), Some(flag)) if file != flag => Err(Error::usage(format!(
            "{} says api: {file}, but --api {flag} was given; drop --api or change the file",
            target.source.display()
        ))),
        (Some(file), _) => Ok(file),
        (None, flag) => Ok(flag.unwrap_or_default()),
    }
}

/// The endpoint URL configured for `api`, resolved the way its SDK crate
/// resolves it: `--endpoint-url`, then `AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS`
/// or `AWS_ENDPOINT_URL_CODECONNECTIONS` (or the profile's `services`
/// section), then `AWS_ENDPOINT_URL` (or the profile's `endpoint_url`).
fn resolved_endpoint(config: &aws_config::SdkConfig, api: Api) -> Option<String> {
    if config.get_origin("endpoint_url").is_client_config() {
        return config.endpoint_url().map(str::to_owned);
    }
    let service_id = match api {
        Api::CodestarConnections => "CodeStar connections",
        Api::Codeconnections => "CodeConnections",
    };
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id(service_id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field of the key is set");
    config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// AWS's own endpoint of `api` for the Region.
fn default_endpoint(api: Api, region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{api}.{region}.{domain}")
}

/// The Region `--local` uses when neither the file nor `--region` names one.
pub(crate) const LOCAL_DEFAULT_REGION: &str = "us-east-1";

/// Who the credentials are: the account and the partition (`aws`,
/// `aws-cn`, `aws-us-gov`) from STS GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) account_id: String,
    pub(crate) partition: String,
}

impl Account {
    /// The account the credentials belong to (STS GetCallerIdentity).
    pub(crate) async fn identity(&self) -> Result<Identity> {
        let main = self.apis.main();
        main.channel
            .call(true, || main.service.caller_identity())
            .await
            .map_err(|failure| {
                let hint = match failure {
                    Failure::Rejected { .. } => "; check your AWS credentials",
                    _ => "",
                };
                Error::api(
                    "sts:GetCallerIdentity",
                    format!("{}{hint}", failure.message()),
                )
            })
    }

    /// Refuse to go on when the file pins another account than the
    /// credentials reach.
    pub(crate) async fn check_account(&self, target: &Target) -> Result<()> {
        let Some(wanted) = &target.account_id else {
            return Ok(());
        };
        let actual = self.identity().await?.account_id;
        if &actual != wanted {
            let how = match &self.place {
                Place::Local(state) => format!(
                    "the --local sandbox in {} plays account {actual} (the account the files that \
                     first used it pinned): give account {wanted} a sandbox of its own with \
                     --local-state FILE, or fix account_id",
                    state.display()
                ),
                Place::Endpoint(_) => {
                    format!("use credentials for {wanted} (--profile), or fix account_id")
                }
            };
            return Err(Error::WrongTarget(format!(
                "{} pins account_id {wanted}, but the credentials are for account {actual} \
                 ({}); nothing was read or changed: {how}",
                target.source.display(),
                self.place
            )));
        }
        Ok(())
    }
}
