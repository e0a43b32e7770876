//! [`Service`] over the AWS SDK's crates for both names of the service:
//! `aws-sdk-codestarconnections` ([`CodeStar`]) and `aws-sdk-codeconnections`
//! ([`CodeConnections`]), with `aws-sdk-sts` for who the credentials are.
//! The two crates are generated from models of the same operations and
//! shapes, so one implementation, written once as a macro, serves both:
//! requests built from plain data, answers read back into it, every SDK
//! error sorted into an [`Attempt`].

use futures_util::FutureExt;

use super::errors::classify;
use super::{Attempt, Call, NewConnection, NewHost, NewLink, Page, Service, SyncSettings};
use crate::account::Identity;
use crate::call::Failure;
use crate::live::{LiveConnection, LiveHost, LiveLink, LiveSync, SyncStatus};
use crate::resource::{Tags, is_aws_tag};
use crate::spec::Vpc;

/// Page size of `ListConnections` and `ListHosts`: the most the service
/// allows.
const PAGE_SIZE: i32 = 100;

/// A call's outcome with "not found" read as `None`.
fn found<T>(result: Result<T, Attempt>) -> Result<Option<T>, Attempt> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Attempt::Failed(Failure::NotFound(_))) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A request this API cannot make.
fn unsupported(what: &str) -> Attempt {
    Attempt::Failed(Failure::Rejected {
        code: None,
        message: format!("{what} exists only in the CodeConnections API: use api: codeconnections"),
    })
}

/// `PullRequestComment`, which only the CodeConnections model has: read
/// from a sync configuration ...
macro_rules! comment_of {
    (yes, $krate:ident) => {
        fn comment_of(s: &$krate::types::SyncConfiguration) -> Option<String> {
            s.pull_request_comment().map(|p| p.as_str().to_owned())
        }
    };
    (no, $krate:ident) => {
        fn comment_of(_: &$krate::types::SyncConfiguration) -> Option<String> {
            None
        }
    };
}

/// ... and set on its create and update requests (the older API refuses
/// one: it has no such member).
macro_rules! with_comment {
    (yes, $builder:expr, $value:expr) => {
        $builder.set_pull_request_comment($value.map(Into::into))
    };
    (no, $builder:expr, $value:expr) => {{
        if $value.is_some() {
            return Err(unsupported("pull_request_comment"));
        }
        $builder
    }};
}

/// A sync configuration's fields on a create or an update request: the two
/// SDK builders are different types with the same setters.
macro_rules! sync_request {
    ($comments:ident, $builder:expr, $sync:expr) => {{
        let sync = $sync;
        let request = $builder
            .resource_name(&sync.resource_name)
            .sync_type(SyncConfigurationType::from(sync.sync_type.as_str()))
            .repository_link_id(&sync.link_id)
            .branch(&sync.branch)
            .config_file(&sync.config_file)
            .role_arn(&sync.role_arn)
            .set_publish_deployment_status(
                sync.publish_deployment_status
                    .as_deref()
                    .map(PublishDeploymentStatus::from),
            )
            .set_trigger_resource_update_on(
                sync.trigger_resource_update_on
                    .as_deref()
                    .map(TriggerResourceUpdateOn::from),
            );
        with_comment!($comments, request, sync.pull_request_comment.as_deref())
    }};
}

/// The SDK clients of one API, built from `config` with the SDK's own
/// retries off: the channel paces and retries every call, because a blind
/// retry of a create can duplicate a resource and the SDK's adaptive
/// limiter stalls a throttled fleet for seconds.
macro_rules! sdk_service {
    ($(#[$doc:meta])* $name:ident, $krate:ident, $module:ident, comments: $comments:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            client: $krate::Client,
            sts: aws_sdk_sts::Client,
        }

        impl $name {
            pub(crate) fn new(config: &aws_types::SdkConfig) -> $name {
                use aws_sdk_sts::config::retry::RetryConfig;
                $name {
                    client: $krate::Client::from_conf(
                        $krate::config::Builder::from(config)
                            .retry_config(RetryConfig::disabled())
                            .build(),
                    ),
                    sts: aws_sdk_sts::Client::from_conf(
                        aws_sdk_sts::config::Builder::from(config)
                            .retry_config(RetryConfig::disabled())
                            .build(),
                    ),
                }
            }
        }

        mod $module {
            use $krate::types::{
                ProviderType, PublishDeploymentStatus, SyncConfigurationType, Tag,
                TriggerResourceUpdateOn, VpcConfiguration,
            };

            use super::*;

            comment_of!($comments, $krate);

            impl Service for $name {
                fn list_connections(&self, next: Option<String>) -> Call<'_, Page<LiveConnection>> {
                    async move {
                        let page = self
                            .client
                            .list_connections()
                            .max_results(PAGE_SIZE)
                            .set_next_token(next)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(Page {
                            items: page
                                .connections()
                                .iter()
                                .filter_map(connection_from)
                                .collect(),
                            next: next_page(page.next_token()),
                        })
                    }
                    .boxed()
                }

                fn list_hosts(&self, next: Option<String>) -> Call<'_, Page<LiveHost>> {
                    async move {
                        let page = self
                            .client
                            .list_hosts()
                            .max_results(PAGE_SIZE)
                            .set_next_token(next)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(Page {
                            items: page.hosts().iter().filter_map(host_from).collect(),
                            next: next_page(page.next_token()),
                        })
                    }
                    .boxed()
                }

                fn list_tags<'a>(&'a self, arn: &'a str) -> Call<'a, Tags> {
                    async move {
                        let out = self
                            .client
                            .list_tags_for_resource()
                            .resource_arn(arn)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(out
                            .tags()
                            .iter()
                            .filter(|t| !is_aws_tag(t.key()))
                            .map(|t| (t.key().to_owned(), t.value().to_owned()))
                            .collect())
                    }
                    .boxed()
                }

                fn create_connection<'a>(&'a self, new: &'a NewConnection) -> Call<'a, String> {
                    async move {
                        let out = self
                            .client
                            .create_connection()
                            .connection_name(&new.name)
                            .set_provider_type(new.provider_type.as_deref().map(ProviderType::from))
                            .set_host_arn(new.host_arn.clone())
                            .set_tags(Some(to_tags(&new.tags)))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(out.connection_arn().to_owned())
                    }
                    .boxed()
                }

                fn create_host<'a>(&'a self, new: &'a NewHost) -> Call<'a, String> {
                    async move {
                        let vpc = new
                            .vpc
                            .as_ref()
                            .map(vpc_configuration)
                            .transpose()
                            .map_err(|why| {
                                Attempt::Failed(Failure::Rejected {
                                    code: None,
                                    message: why,
                                })
                            })?;
                        let out = self
                            .client
                            .create_host()
                            .name(&new.name)
                            .provider_type(ProviderType::from(new.provider_type.as_str()))
                            .provider_endpoint(&new.provider_endpoint)
                            .set_vpc_configuration(vpc)
                            .set_tags(Some(to_tags(&new.tags)))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        out.host_arn().map(str::to_owned).ok_or_else(|| {
                            Attempt::Ambiguous("the answer to CreateHost names no host ARN".to_owned())
                        })
                    }
                    .boxed()
                }

                fn update_host<'a>(
                    &'a self,
                    arn: &'a str,
                    endpoint: &'a str,
                    vpc: Option<&'a Vpc>,
                ) -> Call<'a, ()> {
                    async move {
                        let vpc = vpc.map(vpc_configuration).transpose().map_err(|why| {
                            Attempt::Failed(Failure::Rejected {
                                code: None,
                                message: why,
                            })
                        })?;
                        self.client
                            .update_host()
                            .host_arn(arn)
                            .provider_endpoint(endpoint)
                            .set_vpc_configuration(vpc)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn delete_connection<'a>(&'a self, arn: &'a str) -> Call<'a, ()> {
                    async move {
                        self.client
                            .delete_connection()
                            .connection_arn(arn)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn delete_host<'a>(&'a self, arn: &'a str) -> Call<'a, ()> {
                    async move {
                        self.client
                            .delete_host()
                            .host_arn(arn)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn tag<'a>(&'a self, arn: &'a str, tags: &'a Tags) -> Call<'a, ()> {
                    async move {
                        self.client
                            .tag_resource()
                            .resource_arn(arn)
                            .set_tags(Some(to_tags(tags)))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn untag<'a>(&'a self, arn: &'a str, keys: &'a [String]) -> Call<'a, ()> {
                    async move {
                        self.client
                            .untag_resource()
                            .resource_arn(arn)
                            .set_tag_keys(Some(keys.to_vec()))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn list_repository_links(&self, next: Option<String>) -> Call<'_, Page<LiveLink>> {
                    async move {
                        let page = self
                            .client
                            .list_repository_links()
                            .max_results(PAGE_SIZE)
                            .set_next_token(next)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(Page {
                            items: page.repository_links().iter().map(link_from).collect(),
                            next: next_page(page.next_token()),
                        })
                    }
                    .boxed()
                }

                fn create_repository_link<'a>(&'a self, new: &'a NewLink) -> Call<'a, String> {
                    async move {
                        let out = self
                            .client
                            .create_repository_link()
                            .connection_arn(&new.connection_arn)
                            .owner_id(&new.owner_id)
                            .repository_name(&new.repository_name)
                            .set_encryption_key_arn(new.encryption_key_arn.clone())
                            .set_tags(Some(to_tags(&new.tags)))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        out.repository_link_info()
                            .map(|l| l.repository_link_arn().to_owned())
                            .ok_or_else(|| {
                                Attempt::Ambiguous(
                                    "the answer to CreateRepositoryLink names no link".to_owned(),
                                )
                            })
                    }
                    .boxed()
                }

                fn update_repository_link<'a>(
                    &'a self,
                    id: &'a str,
                    connection_arn: &'a str,
                    encryption_key_arn: Option<&'a str>,
                ) -> Call<'a, ()> {
                    async move {
                        self.client
                            .update_repository_link()
                            .repository_link_id(id)
                            .connection_arn(connection_arn)
                            .set_encryption_key_arn(encryption_key_arn.map(str::to_owned))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn delete_repository_link<'a>(&'a self, id: &'a str) -> Call<'a, ()> {
                    async move {
                        self.client
                            .delete_repository_link()
                            .repository_link_id(id)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn list_sync_configurations<'a>(
                    &'a self,
                    link_id: &'a str,
                    next: Option<String>,
                ) -> Call<'a, Page<LiveSync>> {
                    async move {
                        let page = self
                            .client
                            .list_sync_configurations()
                            .repository_link_id(link_id)
                            .sync_type(SyncConfigurationType::CfnStackSync)
                            .max_results(PAGE_SIZE)
                            .set_next_token(next)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(Page {
                            items: page.sync_configurations().iter().map(sync_from).collect(),
                            next: next_page(page.next_token()),
                        })
                    }
                    .boxed()
                }

                fn create_sync_configuration<'a>(&'a self, sync: &'a SyncSettings) -> Call<'a, ()> {
                    async move {
                        sync_request!($comments, self.client.create_sync_configuration(), sync)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn update_sync_configuration<'a>(&'a self, sync: &'a SyncSettings) -> Call<'a, ()> {
                    async move {
                        sync_request!($comments, self.client.update_sync_configuration(), sync)
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn delete_sync_configuration<'a>(
                    &'a self,
                    resource_name: &'a str,
                    sync_type: &'a str,
                ) -> Call<'a, ()> {
                    async move {
                        self.client
                            .delete_sync_configuration()
                            .resource_name(resource_name)
                            .sync_type(SyncConfigurationType::from(sync_type))
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        Ok(())
                    }
                    .boxed()
                }

                fn sync_status<'a>(
                    &'a self,
                    resource_name: &'a str,
                    sync_type: &'a str,
                ) -> Call<'a, SyncStatus> {
                    async move {
                        let status = found(
                            self.client
                                .get_resource_sync_status()
                                .resource_name(resource_name)
                                .sync_type(SyncConfigurationType::from(sync_type))
                                .send()
                                .await
                                .map_err(|e| classify(&e)),
                        )?;
                        let blockers = found(
                            self.client
                                .get_sync_blocker_summary()
                                .resource_name(resource_name)
                                .sync_type(SyncConfigurationType::from(sync_type))
                                .send()
                                .await
                                .map_err(|e| classify(&e)),
                        )?;
                        let latest = status.as_ref().and_then(|s| s.latest_sync()).map(|attempt| {
                            (
                                attempt.status().as_str().to_owned(),
                                attempt.events().last().map(|e| e.event().to_owned()),
                            )
                        });
                        let blockers = blockers
                            .as_ref()
                            .and_then(|b| b.sync_blocker_summary())
                            .map(|summary| {
                                summary
                                    .latest_blockers()
                                    .iter()
                                    .filter(|b| b.status().as_str() == "ACTIVE")
                                    .map(|b| b.created_reason().to_owned())
                                    .collect()
                            })
                            .unwrap_or_default();
                        Ok(SyncStatus { latest, blockers })
                    }
                    .boxed()
                }

                fn caller_identity(&self) -> Call<'_, Identity> {
                    async move {
                        let out = self
                            .sts
                            .get_caller_identity()
                            .send()
                            .await
                            .map_err(|e| classify(&e))?;
                        let account_id = out.account.ok_or_else(|| {
                            Attempt::Failed(Failure::Rejected {
                                code: None,
                                message: "the answer to sts:GetCallerIdentity names no account".to_owned(),
                            })
                        })?;
                        let partition = out
                            .arn
                            .as_deref()
                            .and_then(|arn| arn.split(':').nth(1))
                            .filter(|p| !p.is_empty())
                            .unwrap_or("aws")
                            .to_owned();
                        Ok(Identity {
                            account_id,
                            partition,
                        })
                    }
                    .boxed()
                }
            }

                    /// A list page's token, if there is a next page.
                    fn next_page(token: Option<&str>) -> Option<String> {
                        token.filter(|t| !t.is_empty()).map(str::to_owned)
                    }

            /// A listed connection as the planner sees it, tags still to be read;
            /// `None` for an entry without an ARN or name.
            fn connection_from(c: &$krate::types::Connection) -> Option<LiveConnection> {
                Some(LiveConnection {
                    arn: c.connection_arn()?.to_owned(),
                    name: c.connection_name()?.to_owned(),
                    provider_type: c
                        .provider_type()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    host_arn: c.host_arn().filter(|a| !a.is_empty()).map(str::to_owned),
                    status: c
                        .connection_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    tags: Tags::new(),
                })
            }

            /// A listed host as the planner sees it, tags still to be read; `None` for
            /// an entry without an ARN or name.
            fn host_from(h: &$krate::types::Host) -> Option<LiveHost> {
                Some(LiveHost {
                    arn: h.host_arn()?.to_owned(),
                    name: h.name()?.to_owned(),
                    provider_type: h
                        .provider_type()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    provider_endpoint: h.provider_endpoint().unwrap_or_default().to_owned(),
                    vpc: h.vpc_configuration().map(|v| Vpc {
                        vpc_id: v.vpc_id().to_owned(),
                        subnet_ids: v.subnet_ids().to_vec(),
                        security_group_ids: v.security_group_ids().to_vec(),
                        tls_certificate: v.tls_certificate().map(str::to_owned),
                    }),
                    status: h.status().unwrap_or_default().to_owned(),
                    status_message: h.status_message().map(str::to_owned),
                    tags: Tags::new(),
                })
            }

            fn link_from(l: &$krate::types::RepositoryLinkInfo) -> LiveLink {
                LiveLink {
                    name: crate::spec::link_name(l.owner_id(), l.repository_name()),
                    arn: l.repository_link_arn().to_owned(),
                    id: l.repository_link_id().to_owned(),
                    owner_id: l.owner_id().to_owned(),
                    repository_name: l.repository_name().to_owned(),
                    provider_type: l.provider_type().as_str().to_owned(),
                    connection_arn: l.connection_arn().to_owned(),
                    encryption_key_arn: l.encryption_key_arn().map(str::to_owned),
                    tags: Tags::new(),
                }
            }

            fn sync_from(s: &$krate::types::SyncConfiguration) -> LiveSync {
                LiveSync {
                    resource_name: s.resource_name().to_owned(),
                    sync_type: s.sync_type().as_str().to_owned(),
                    link_id: s.repository_link_id().to_owned(),
                    link_arn: String::new(),
                    repository: crate::spec::link_name(s.owner_id(), s.repository_name()),
                    branch: s.branch().to_owned(),
                    config_file: s.config_file().unwrap_or_default().to_owned(),
                    role_arn: s.role_arn().to_owned(),
                    publish_deployment_status: s
                        .publish_deployment_status()
                        .map(|p| p.as_str().to_owned()),
                    trigger_resource_update_on: s
                        .trigger_resource_update_on()
                        .map(|t| t.as_str().to_owned()),
                    pull_request_comment: comment_of(s),
                    tags: Tags::new(),
                    sync_status: None,
                }
            }

            fn to_tags(tags: &Tags) -> Vec<Tag> {
                tags.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect()
            }

            fn vpc_configuration(vpc: &Vpc) -> Result<VpcConfiguration, String> {
                VpcConfiguration::builder()
                    .vpc_id(&vpc.vpc_id)
                    .set_subnet_ids(Some(vpc.subnet_ids.clone()))
                    .set_security_group_ids(Some(vpc.security_group_ids.clone()))
                    .set_tls_certificate(vpc.tls_certificate.clone())
                    .build()
                    .map_err(|e| format!("incomplete VPC configuration: {e}"))
            }

        }
    };
}

sdk_service!(
    /// The CodeStar Connections API (signing name `codestar-connections`).
    CodeStar,
    aws_sdk_codestarconnections,
    codestar,
    comments: no
);

sdk_service!(
    /// The CodeConnections API (signing name `codeconnections`).
    CodeConnections,
    aws_sdk_codeconnections,
    codeconnections,
    comments: yes
);
