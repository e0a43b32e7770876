//! One test per rule of the desired-state file, each snapshotting the
//! rendered message, so error quality cannot silently regress. Files are
//! written to a temp dir and read through [`load`], as the CLI does.

mod schema_check;

use std::path::{Path, PathBuf};

use super::*;
use crate::resource::ProviderType;

const HEAD: &str = "version: 1\nstack: s\n";

/// A host with a VPC, for rules about hosts: `vpc` replaces the VPC lines.
fn host_with_vpc(vpc: &str) -> String {
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\n    vpc:\n{vpc}"
    )
}

const GOOD_VPC: &str = "      vpc_id: vpc-0abc1234\n      subnet_ids: [subnet-0a1b2c3d]\n      security_group_ids: [sg-0a1b2c3d]\n";

const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBizCCATGgAwIBAgIU\n-----END CERTIFICATE-----\n";

/// Write `files` (name, text) into a fresh temp dir.
fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The rendered diagnostics for `paths` in `dir`, with the temp dir's path
/// replaced by `DIR` so snapshots are stable.
fn render(dir: &Path, paths: &[&str]) -> String {
    let paths: Vec<PathBuf> = paths.iter().map(|p| dir.join(p)).collect();
    match load(&paths) {
        Ok(_) => panic!("expected errors, the files loaded"),
        Err(ds) => ds.to_string().replace(&dir.display().to_string(), "DIR"),
    }
}

/// The rendered errors of one file.
fn errors_of(yaml: &str) -> String {
    let dir = write(&[("c.yaml", yaml)]);
    render(dir.path(), &["c.yaml"])
}

fn load_one(yaml: &str) -> Target {
    let dir = write(&[("c.yaml", yaml)]);
    let mut targets = load(&[dir.path().join("c.yaml")]).unwrap_or_else(|e| panic!("{e}"));
    targets.remove(0)
}

macro_rules! rule {
    ($name:ident, $yaml:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(errors_of(&$yaml));
        }
    };
}

// Syntax and shape: caught while parsing, one per file.
rule!(
    syntax_unclosed_bracket,
    format!("{HEAD}connections: [\n  {{name: a, provider_type: GitHub}}\n")
);
rule!(
    syntax_tabs,
    format!("{HEAD}connections:\n\t- name: a\n\t  provider_type: GitHub\n")
);
rule!(
    duplicate_key,
    format!(
        "{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    provider_type: GitLab\n"
    )
);
rule!(unknown_key, format!("{HEAD}conections:\n  - name: a\n"));
rule!(
    unknown_key_in_connection,
    format!("{HEAD}connections:\n  - name: a\n    provider: GitHub\n")
);
rule!(
    wrong_type_list_for_map,
    format!("{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    tags: [env, prod]\n")
);
rule!(
    wrong_type_bool,
    format!("{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    protect: yes\n")
);
rule!(wrong_type_number, "version: one\nstack: s\n");
rule!(
    missing_required_key,
    format!("{HEAD}connections:\n  - provider_type: GitHub\n")
);
rule!(null_value, format!("{HEAD}default_tags:\n  team:\n"));
rule!(unsupported_yaml_tag, "version: 1\nstack: !Ref Stack\n");
rule!(two_documents, format!("{HEAD}---\n{HEAD}"));
rule!(empty_file, "\n# nothing yet\n");

// The file as a whole.
rule!(version_must_be_1, "version: 2\nstack: s\n");
rule!(stack_empty, "version: 1\nstack: \"\"\n");
rule!(
    stack_too_long,
    format!("version: 1\nstack: {}\n", "s".repeat(257))
);
rule!(stack_not_tag_safe, "version: 1\nstack: platform!prod\n");
rule!(
    account_id_not_12_digits,
    format!("{HEAD}account_id: \"12345\"\n")
);
rule!(region_implausible, format!("{HEAD}region: EU-West-1\n"));
rule!(profile_empty, format!("{HEAD}profile: \"\"\n"));
rule!(
    max_delete_percent_over_100,
    format!("{HEAD}safety:\n  max_delete_percent: 150\n")
);

// Names.
rule!(
    connection_name_too_long,
    format!(
        "{HEAD}connections:\n  - name: {}\n    provider_type: GitHub\n",
        "c".repeat(40)
    )
);
rule!(
    connection_name_empty,
    format!("{HEAD}connections:\n  - name: \"\"\n    provider_type: GitHub\n")
);
rule!(
    host_name_too_long,
    format!(
        "{HEAD}hosts:\n  - name: {}\n    provider_type: GitLabSelfManaged\n    provider_endpoint: https://gitlab.example.com\n",
        "h".repeat(65)
    )
);
rule!(
    duplicate_connection_names,
    format!(
        "{HEAD}connections:\n  - name: github-main\n    provider_type: GitHub\n  - name: github-main\n    provider_type: GitLab\n"
    )
);
rule!(
    duplicate_host_names,
    format!(
        "{HEAD}hosts:\n  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://a.example.com\n  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://b.example.com\n"
    )
);

// Provider types and where a connection points.
rule!(
    provider_type_unknown,
    format!("{HEAD}connections:\n  - name: a\n    provider_type: github\n")
);
rule!(
    provider_type_self_hosted_needs_host,
    format!("{HEAD}connections:\n  - name: a\n    provider_type: GitLabSelfManaged\n")
);
rule!(
    host_provider_type_must_be_self_hosted,
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: Bitbucket\n    provider_endpoint: https://ghes.example.com\n"
    )
);
rule!(
    connection_needs_a_source,
    format!("{HEAD}connections:\n  - name: a\n")
);
rule!(
    connection_has_two_sources,
    format!("{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    host: h\n")
);
rule!(
    host_reference_dangles,
    format!(
        "{HEAD}hosts:\n  - name: ghes-prod\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\nconnections:\n  - name: a\n    host: ghes-prd\n"
    )
);
rule!(
    host_arn_malformed,
    format!(
        "{HEAD}connections:\n  - name: a\n    host_arn: arn:aws:codestar-connections:eu-west-1:1234:connection/x\n"
    )
);
rule!(
    host_arn_in_another_region,
    format!(
        "{HEAD}region: eu-west-1\nconnections:\n  - name: a\n    host_arn: arn:aws:codeconnections:us-east-1:123456789012:host/h-0123abcd\n"
    )
);

// Hosts.
rule!(
    endpoint_not_https,
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: http://ghes.example.com\n"
    )
);
rule!(
    endpoint_not_a_url,
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: ghes.example.com\n"
    )
);
rule!(
    endpoint_too_long,
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com/{}\n",
        "p".repeat(500)
    )
);
rule!(
    vpc_id_malformed,
    host_with_vpc(
        "      vpc_id: vpc-123\n      subnet_ids: [subnet-0a1b2c3d]\n      security_group_ids: [sg-0a1b2c3d]\n"
    )
);
rule!(
    subnet_id_malformed,
    host_with_vpc(
        "      vpc_id: vpc-0abc1234\n      subnet_ids: [subnet-0a1b2c3d, sn-0a1b2c3d]\n      security_group_ids: [sg-0a1b2c3d]\n"
    )
);
rule!(
    subnets_empty,
    host_with_vpc(
        "      vpc_id: vpc-0abc1234\n      subnet_ids: []\n      security_group_ids: [sg-0a1b2c3d]\n"
    )
);
rule!(
    subnet_listed_twice,
    host_with_vpc(
        "      vpc_id: vpc-0abc1234\n      subnet_ids:\n        - subnet-0a1b2c3d\n        - subnet-0a1b2c3d\n      security_group_ids: [sg-0a1b2c3d]\n"
    )
);
rule!(
    security_groups_too_many,
    host_with_vpc(&format!(
        "      vpc_id: vpc-0abc1234\n      subnet_ids: [subnet-0a1b2c3d]\n      security_group_ids: [{}]\n",
        (0..11)
            .map(|i| format!("sg-0000{i:04}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
);
rule!(
    security_group_malformed,
    host_with_vpc(
        "      vpc_id: vpc-0abc1234\n      subnet_ids: [subnet-0a1b2c3d]\n      security_group_ids: [sg-0a1b]\n"
    )
);
rule!(
    tls_certificate_both_forms,
    host_with_vpc(&format!(
        "{GOOD_VPC}      tls_certificate: \"{}\"\n      tls_certificate_file: ghes.pem\n",
        PEM.replace('\n', "\\n")
    ))
);
rule!(
    tls_certificate_not_pem,
    host_with_vpc(&format!(
        "{GOOD_VPC}      tls_certificate: not a certificate\n"
    ))
);
rule!(
    tls_certificate_too_long,
    host_with_vpc(&format!(
        "{GOOD_VPC}      tls_certificate: \"-----BEGIN CERTIFICATE-----{}-----END CERTIFICATE-----\"\n",
        "A".repeat(16_400)
    ))
);
rule!(
    tls_certificate_file_missing,
    host_with_vpc(&format!(
        "{GOOD_VPC}      tls_certificate_file: certs/missing.pem\n"
    ))
);

// Tags.
rule!(
    tag_key_aws_prefix,
    format!("{HEAD}default_tags:\n  aws:cloudformation:stack-name: x\n")
);
rule!(
    tag_key_aws_prefix_any_case,
    format!("{HEAD}default_tags:\n  AWS:owner: x\n")
);
rule!(
    tag_key_own_prefix,
    format!(
        "{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    tags:\n      codestar-reconcile:stack: other\n"
    )
);
rule!(
    tag_key_too_long,
    format!("{HEAD}default_tags:\n  {}: v\n", "k".repeat(129))
);
rule!(tag_key_empty, format!("{HEAD}default_tags:\n  \"\": v\n"));
rule!(
    tag_value_too_long,
    format!("{HEAD}default_tags:\n  team: {}\n", "v".repeat(257))
);
rule!(
    too_many_tags_after_merging_defaults,
    format!(
        "{HEAD}default_tags:\n{}connections:\n  - name: a\n    provider_type: GitHub\n    tags:\n{}",
        (0..100).map(|i| format!("  d{i}: v\n")).collect::<String>(),
        (0..100)
            .map(|i| format!("      t{i}: v\n"))
            .collect::<String>(),
    )
);
rule!(
    too_many_tags_with_protect_tag,
    format!(
        "{HEAD}hosts:\n  - name: h\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\n    protect: true\n    tags:\n{}",
        (0..199)
            .map(|i| format!("      t{i}: v\n"))
            .collect::<String>(),
    )
);

// Repository links and sync configurations.
const GITHUB: &str = "connections:\n  - name: gh\n    provider_type: GitHub\n";
const ROLE: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";

/// A file with the `gh` connection, this link and these sync configurations.
fn links(link: &str, syncs: &str) -> String {
    format!("{HEAD}{GITHUB}repository_links:\n{link}{syncs}")
}

fn app_sync(extra: &str) -> String {
    format!(
        "sync_configurations:\n  - resource_name: app-prod\n    repository: my-org/app\n    branch: main\n    config_file: deploy/app.yaml\n    role_arn: {ROLE}\n{extra}"
    )
}

rule!(
    link_repository_without_owner,
    links("  - repository: app\n    connection: gh\n", "")
);
rule!(
    link_names_no_connection,
    links("  - repository: my-org/app\n", "")
);
rule!(
    link_with_both_connection_and_arn,
    links(
        "  - repository: my-org/app\n    connection: gh\n    connection_arn: arn:aws:codeconnections:eu-west-1:123456789012:connection/abc\n",
        ""
    )
);
rule!(
    link_connection_not_in_file,
    links("  - repository: my-org/app\n    connection: gitlab\n", "")
);
rule!(
    link_connection_arn_malformed,
    links(
        "  - repository: my-org/app\n    connection_arn: arn:aws:codeconnections:eu-west-1:123456789012:host/abc\n",
        ""
    )
);
rule!(
    link_connection_arn_in_another_region,
    format!(
        "{HEAD}region: eu-west-1\nrepository_links:\n  - repository: my-org/app\n    connection_arn: arn:aws:codeconnections:us-east-1:123456789012:connection/abc\n"
    )
);
rule!(
    link_kms_key_malformed,
    links(
        "  - repository: my-org/app\n    connection: gh\n    encryption_key_arn: alias/mine\n",
        ""
    )
);
rule!(
    link_repository_twice,
    links(
        "  - repository: my-org/app\n    connection: gh\n  - repository: my-org/app\n    connection: gh\n",
        ""
    )
);
rule!(
    link_owner_too_long,
    links(
        &format!(
            "  - repository: {}/app\n    connection: gh\n",
            "o".repeat(256)
        ),
        ""
    )
);
rule!(
    sync_repository_not_a_link_of_the_file,
    links(
        "  - repository: my-org/other\n    connection: gh\n",
        &app_sync("")
    )
);
rule!(
    sync_bad_resource_name_role_and_option,
    links(
        "  - repository: my-org/app\n    connection: gh\n",
        &app_sync("    publish_deployment_status: enabled\n")
            .replace("app-prod", "app prod!")
            .replace(ROLE, "arn:aws:iam::123456789012:user/me")
    )
);
rule!(
    sync_type_unknown,
    links(
        "  - repository: my-org/app\n    connection: gh\n",
        &app_sync("    sync_type: GIT_SYNC\n")
    )
);
rule!(
    sync_pull_request_comment_needs_codeconnections,
    links(
        "  - repository: my-org/app\n    connection: gh\n",
        &app_sync("    pull_request_comment: ENABLED\n")
    )
);
rule!(
    sync_empty_branch_and_file,
    links(
        "  - repository: my-org/app\n    connection: gh\n",
        &app_sync("")
            .replace("branch: main", "branch: \"\"")
            .replace("config_file: deploy/app.yaml", "config_file: \" \"")
    )
);
rule!(
    sync_resource_name_twice,
    links(
        "  - repository: my-org/app\n    connection: gh\n",
        &format!(
            "{}{}",
            app_sync(""),
            app_sync("").replace("sync_configurations:\n", "")
        )
    )
);

// Fleets.
const ROLE_TEMPLATE: &str = "arn:aws:iam::{account_id}:role/codestar-reconcile";

fn fleet(targets: &str) -> String {
    format!("{HEAD}targets:\n{targets}{GITHUB}")
}

rule!(
    fleet_account_not_12_digits_and_twice,
    fleet(&format!(
        "  accounts: [\"12345\", \"111111111111\", \"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_role_without_placeholder,
    fleet(
        "  accounts: [\"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: arn:aws:iam::111111111111:role/codestar-reconcile\n"
    )
);
rule!(
    fleet_role_not_a_role,
    fleet(
        "  accounts: [\"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: arn:aws:iam::{account_id}:user/me\n"
    )
);
rule!(
    fleet_region_twice_and_bad,
    fleet(&format!(
        "  accounts: [\"111111111111\"]\n  regions: [eu-west-1, EU-WEST-2, eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_no_regions,
    fleet(&format!(
        "  accounts: [\"111111111111\"]\n  regions: []\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_names_no_account,
    fleet(&format!(
        "  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_ou_malformed,
    fleet(&format!(
        "  organizational_units: [ou-ABC]\n  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_retired_account_also_targeted,
    fleet(&format!(
        "  accounts: [\"111111111111\"]\n  retired_accounts: [\"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n"
    ))
);
rule!(
    fleet_with_region_and_account_id,
    format!(
        "{HEAD}region: eu-west-1\naccount_id: \"111111111111\"\ntargets:\n  accounts: [\"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n{GITHUB}"
    )
);
rule!(
    fleet_duration_and_session_name_out_of_range,
    fleet(&format!(
        "  accounts: [\"111111111111\"]\n  regions: [eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n  duration: 5m\n  session_name: \"a b\"\n"
    ))
);

#[test]
fn a_fleet_loads_with_its_accounts_regions_and_role() {
    let target = load_one(&fleet(&format!(
        "  accounts: [\"111111111111\", \"222222222222\"]\n  organizational_units: [ou-ab12-34567890]\n  exclude_accounts: [\"999999999999\"]\n  regions: [us-east-1, eu-west-1]\n  role_arn: {ROLE_TEMPLATE}\n  external_id: platform-ci\n  duration: 45m\n  retired_accounts: [\"333333333333\"]\n"
    )));
    let fleet = target.fleet.expect("a fleet");
    assert_eq!(fleet.accounts, ["111111111111", "222222222222"]);
    assert_eq!(fleet.organizational_units, ["ou-ab12-34567890"]);
    assert_eq!(fleet.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(
        fleet.role_in("222222222222"),
        "arn:aws:iam::222222222222:role/codestar-reconcile"
    );
    assert_eq!(fleet.external_id.as_deref(), Some("platform-ci"));
    assert_eq!(fleet.duration, Some(std::time::Duration::from_secs(2700)));
    assert_eq!(fleet.retired_accounts, ["333333333333"]);
    assert_eq!(target.region, None);
    assert_eq!(target.account_id, None);
}

#[test]
fn a_link_and_its_sync_configuration_load_with_defaults() {
    let target = load_one(&links(
        "  - repository: my-group/sub/app\n    connection: gh\n    tags: {team: app}\n",
        &app_sync("").replace("my-org/app", "my-group/sub/app"),
    ));
    let link = &target.repository_links[0];
    assert_eq!(
        (link.owner_id.as_str(), link.repository_name.as_str()),
        ("my-group/sub", "app"),
        "GitLab subgroups: split at the last /"
    );
    assert_eq!(link.connection, LinkConnection::Name("gh".to_owned()));
    assert_eq!(link.tags.get("team").map(String::as_str), Some("app"));
    let sync = &target.sync_configurations[0];
    assert_eq!(sync.sync_type, CFN_STACK_SYNC);
    assert_eq!(sync.repository, "my-group/sub/app");
    assert_eq!(sync.publish_deployment_status, None);
    // With api: codeconnections, pull_request_comment is allowed.
    let target = load_one(
        &links(
            "  - repository: my-org/app\n    connection: gh\n",
            &app_sync("    pull_request_comment: ENABLED\n"),
        )
        .replace("stack: s\n", "stack: s\napi: codeconnections\n"),
    );
    assert_eq!(
        target.sync_configurations[0]
            .pull_request_comment
            .as_deref(),
        Some("ENABLED")
    );
}

#[test]
fn every_error_of_a_file_is_reported_at_once_in_reading_order() {
    insta::assert_snapshot!(errors_of(&format!(
        "version: 1\nstack: \"bad!\"\nregion: Europe\ndefault_tags:\n  aws:x: y\nconnections:\n  - name: {}\n    provider_type: GitHub\n  - name: b\n    host: nowhere\n",
        "n".repeat(33)
    )));
}

#[test]
fn exactly_200_tags_with_ownership_tags_is_allowed() {
    let tags: String = (0..199).map(|i| format!("      t{i}: v\n")).collect();
    let target = load_one(&format!(
        "{HEAD}connections:\n  - name: a\n    provider_type: GitHub\n    tags:\n{tags}"
    ));
    assert_eq!(target.connections[0].tags.len(), 199);
}

#[test]
fn not_utf8_points_at_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), b"version: 1\nstack: caf\xe9\n").unwrap();
    insta::assert_snapshot!(render(dir.path(), &["c.yaml"]));
}

#[test]
fn a_directory_without_yaml_is_an_error() {
    let dir = write(&[("notes.txt", "hi")]);
    let err = load(&[dir.path().to_path_buf()]).unwrap_err();
    insta::assert_snapshot!(
        err.to_string()
            .replace(&dir.path().display().to_string(), "DIR")
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let err = load(&[PathBuf::from("does/not/exist.yaml")]).unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn a_directory_loads_its_yaml_files_in_name_order() {
    let dir = write(&[
        ("b.yml", "version: 1\nstack: b\n"),
        ("a.yaml", "version: 1\nstack: a\n"),
        ("skip.txt", "not yaml"),
        ("sub/c.yaml", "version: 1\nstack: c\n"),
    ]);
    let targets = load(&[dir.path().to_path_buf()]).unwrap();
    let stacks: Vec<&str> = targets.iter().map(|t| t.stack.as_str()).collect();
    assert_eq!(stacks, ["a", "b"]);
}

#[test]
fn two_files_for_the_same_stack_and_region_name_both() {
    let dir = write(&[
        ("a.yaml", "version: 1\nstack: platform\nregion: eu-west-1\n"),
        ("b.yaml", "version: 1\nstack: platform\nregion: eu-west-1\n"),
    ]);
    insta::assert_snapshot!(render(dir.path(), &["a.yaml", "b.yaml"]));
}

#[test]
fn the_same_stack_in_two_regions_is_fine() {
    let dir = write(&[
        ("a.yaml", "version: 1\nstack: platform\nregion: eu-west-1\n"),
        ("b.yaml", "version: 1\nstack: platform\nregion: us-east-1\n"),
    ]);
    let targets = load(&[dir.path().join("a.yaml"), dir.path().join("b.yaml")]).unwrap();
    assert_eq!(targets.len(), 2);
}

#[test]
fn errors_in_several_files_are_all_reported() {
    let dir = write(&[
        ("a.yaml", "version: 3\nstack: a\n"),
        ("b.yaml", "version: 1\nstack: b\nregion: nowhere\n"),
    ]);
    let err = load(&[dir.path().join("a.yaml"), dir.path().join("b.yaml")]).unwrap_err();
    assert_eq!(err.0.len(), 2);
}

#[test]
fn a_valid_file_becomes_a_target_with_merged_tags() {
    let dir = write(&[
        ("certs/ghes.pem", PEM),
        (
            "c.yaml",
            "version: 1\nstack: platform\nregion: eu-west-1\naccount_id: \"012345678901\"\ndefault_tags: {team: platform, env: dev}\nhosts:\n  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\n    vpc:\n      vpc_id: vpc-0abc1234def567890\n      subnet_ids: [subnet-0a1b2c3d]\n      security_group_ids: [sg-0a1b2c3d]\n      tls_certificate_file: certs/ghes.pem\nconnections:\n  - name: apps\n    host: ghes\n    protect: true\n    tags: {env: prod}\n  - name: other\n    host_arn: arn:aws:codestar-connections:eu-west-1:123456789012:host/x-0123abcd\n  - name: gh\n    provider_type: GitHub\n    adopt: true\nsafety: {max_delete_percent: 50}\n",
        ),
    ]);
    let t = load(&[dir.path().join("c.yaml")]).unwrap().remove(0);
    assert_eq!(t.account_id.as_deref(), Some("012345678901"));
    let vpc = t.hosts[0].vpc.as_ref().unwrap();
    assert_eq!(vpc.tls_certificate.as_deref(), Some(PEM));
    assert_eq!(
        t.hosts[0].provider_type,
        ProviderType::GitHubEnterpriseServer
    );
    assert_eq!(t.hosts[0].tags["env"], "dev");
    let apps = &t.connections[0];
    assert_eq!(apps.source, ConnectionSource::Host("ghes".into()));
    assert_eq!(apps.tags["env"], "prod", "the resource's own tags win");
    assert_eq!(apps.tags["team"], "platform");
    assert_eq!(apps.protect, Some(true));
    assert!(matches!(
        t.connections[1].source,
        ConnectionSource::HostArn(_)
    ));
    assert!(t.connections[2].adopt);
    assert_eq!(
        t.safety,
        Safety {
            max_delete_percent: 50,
            min_managed: 10
        }
    );
}

#[test]
fn anchors_and_merge_keys_share_tags() {
    let mut yaml = format!("{HEAD}default_tags: &common {{team: platform}}\nconnections:\n");
    for i in 0..250 {
        yaml.push_str(&format!(
            "  - name: c{i}\n    provider_type: GitHub\n    tags: {{<<: *common, env: prod}}\n"
        ));
    }
    let t = load_one(&yaml);
    assert_eq!(t.connections[249].tags["team"], "platform");
}

/// Load a file that must fail, and return its errors. Hostile inputs are
/// proved stopped by the budget that names them; how fast that happens is
/// measured by `cargo bench --bench scale -- bad`, not timed here.
fn refused(name: &str, text: &[u8]) -> Diagnostics {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    load(&[dir.path().join(name)]).unwrap_err()
}

#[test]
fn an_alias_bomb_is_stopped_by_the_expansion_budget() {
    // Each level lists the previous one nine times: 9^9 lists if expanded.
    let mut yaml = String::from(
        "version: 1\nstack: s\nconnections:\n  - name: c0\n    provider_type: GitHub\n    tags: &t0 {k: v}\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*t{}", i - 1); 9].join(", ");
        yaml.push_str(&format!(
            "  - name: c{i}\n    provider_type: GitHub\n    tags: &t{i} {{<<: [{refs}]}}\n"
        ));
    }
    let err = refused("bomb.yaml", yaml.as_bytes());
    insta::assert_snapshot!(err.0[0].message);
}

#[test]
fn deep_nesting_is_refused_with_a_location() {
    let yaml = format!(
        "{HEAD}default_tags: {}{}\n",
        "{a: ".repeat(1000),
        "}".repeat(1000)
    );
    let err = refused("deep.yaml", yaml.as_bytes());
    assert!(err.0[0].line.is_some());
}

#[test]
fn a_10_mb_file_is_refused_by_size_before_parsing() {
    let mut yaml = String::from("version: 1\nstack: s\nconnections:\n");
    let mut i = 0;
    while yaml.len() < 10 * 1024 * 1024 {
        yaml.push_str(&format!("  - name: c{i}\n    provider_type: GitHub\n"));
        i += 1;
    }
    let err = refused("big.yaml", yaml.as_bytes());
    assert!(err.0[0].message.contains("at most 2097152 bytes"), "{err}");
}

#[test]
fn many_tiny_values_stop_at_the_node_budget() {
    let mut yaml = String::from("version: 1\nstack: s\ndefault_tags:\n");
    for i in 0..110_000 {
        yaml.push_str(&format!(" k{i}: v\n"));
    }
    assert!(yaml.len() < MAX_FILE_BYTES as usize);
    let err = refused("flood.yaml", yaml.as_bytes());
    insta::assert_snapshot!(err.0[0].message);
}

fn sample_file() -> File {
    let tags = |pairs: &[(&str, &str)]| -> FileTags {
        pairs
            .iter()
            .map(|(k, v)| (Located::new(k.to_string()), Located::new(v.to_string())))
            .collect()
    };
    File {
        version: Located::new(1),
        stack: Located::new("platform".into()),
        region: Some(Located::new("eu-west-1".into())),
        account_id: Some(Located::new("012345678901".into())),
        api: Some(Located::new("codeconnections".into())),
        profile: None,
        targets: None,
        default_tags: tags(&[("team", "platform"), ("cost", "4711")]),
        hosts: vec![FileHost {
            name: Located::new("ghes".into()),
            provider_type: Located::new("GitHubEnterpriseServer".into()),
            provider_endpoint: Located::new("https://ghes.example.com".into()),
            vpc: Some(FileVpc {
                vpc_id: Located::new("vpc-0abc1234".into()),
                subnet_ids: Located::new(vec![Located::new("subnet-0a1b2c3d".into())]),
                security_group_ids: Located::new(vec![Located::new("sg-0a1b2c3d".into())]),
                tls_certificate: Some(Located::new(PEM.into())),
                tls_certificate_file: None,
            }),
            tags: tags(&[("env", "prod")]),
            protect: Some(true),
            adopt: true,
        }],
        connections: vec![
            FileConnection {
                name: Located::new("apps".into()),
                host: Some(Located::new("ghes".into())),
                protect: Some(false),
                ..FileConnection::default()
            },
            FileConnection {
                name: Located::new("gh".into()),
                provider_type: Some(Located::new("GitHub".into())),
                tags: tags(&[("yes", "no"), ("n", "1.0")]),
                ..FileConnection::default()
            },
        ],
        repository_links: vec![FileRepositoryLink {
            repository: Located::new("my-group/sub/app".into()),
            connection: Some(Located::new("gh".into())),
            encryption_key_arn: Some(Located::new(
                "arn:aws:kms:eu-west-1:012345678901:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            )),
            tags: tags(&[("app", "yes")]),
            protect: Some(true),
            ..FileRepositoryLink::default()
        }],
        sync_configurations: vec![FileSyncConfiguration {
            resource_name: Located::new("app-prod".into()),
            sync_type: None,
            repository: Located::new("my-group/sub/app".into()),
            branch: Located::new("main".into()),
            config_file: Located::new("deploy/app-prod.yaml".into()),
            role_arn: Located::new("arn:aws:iam::012345678901:role/cfn-git-sync".into()),
            publish_deployment_status: Some(Located::new("ENABLED".into())),
            trigger_resource_update_on: Some(Located::new("FILE_CHANGE".into())),
            pull_request_comment: Some(Located::new("DISABLED".into())),
        }],
        safety: Some(FileSafety::default()),
    }
}

#[test]
fn a_written_file_loads_back_to_the_same_target() {
    let file = sample_file();
    let yaml = to_yaml(&file);
    assert!(
        yaml.starts_with("# yaml-language-server: $schema="),
        "{yaml}"
    );
    let loaded = load_one(&yaml);
    let dir = write(&[("c.yaml", &yaml)]);
    let path = dir.path().join("c.yaml");
    let mut expected = load(std::slice::from_ref(&path)).unwrap().remove(0);
    expected.source = loaded.source.clone();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.account_id.as_deref(), Some("012345678901"));
    assert_eq!(loaded.connections[1].tags["yes"], "no");
    assert_eq!(
        loaded.hosts[0]
            .vpc
            .as_ref()
            .unwrap()
            .tls_certificate
            .as_deref(),
        Some(PEM)
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn an_empty_file_writes_only_what_is_set() {
    let file = File {
        version: Located::new(1),
        stack: Located::new("s".into()),
        ..File::default()
    };
    insta::assert_snapshot!(to_yaml(&file));
}

// The schema, the examples and the loader must agree.

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(repo().join("schema/codestar-reconcile.schema.json"))
        .unwrap_or_default();
    assert!(
        committed == format!("{}\n", json_schema_string()),
        "schema/codestar-reconcile.schema.json is out of date; regenerate it with:\n    cargo run -- schema > schema/codestar-reconcile.schema.json"
    );
}

fn example_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn schema() -> serde_json::Value {
    serde_json::from_str(&json_schema_string()).unwrap()
}

fn as_json(yaml: &str) -> serde_json::Value {
    serde_saphyr::from_str(yaml).unwrap()
}

#[test]
fn every_example_loads_and_points_at_the_schema() {
    let files = example_files();
    assert!(files.len() >= 4, "{files:?}");
    let targets = load(&files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(targets.len(), files.len());
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let first = text.lines().next().unwrap();
        let reference = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} must start with the schema comment", path.display()));
        let schema = path.parent().unwrap().join(reference);
        assert!(
            schema.is_file(),
            "{}: {} does not exist",
            path.display(),
            schema.display()
        );
    }
}

#[test]
fn the_schema_accepts_every_example() {
    let schema = schema();
    for path in example_files() {
        let value = as_json(&std::fs::read_to_string(&path).unwrap());
        let problems = schema_check::violations(&schema, &value);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
    }
}

#[test]
fn the_schema_rejects_bad_files() {
    let schema = schema();
    let bad = [
        "version: 2\nstack: s\n",
        "version: 1\nstack: s\nextra: 1\n",
        "version: 1\n",
        "version: 1\nstack: s\nconnections:\n  - name: a\n",
        "version: 1\nstack: s\nconnections:\n  - name: a\n    provider_type: GitHub\n    host: h\n",
        "version: 1\nstack: s\nconnections:\n  - name: a\n    provider_type: GitHubEnterpriseServer\n",
        "version: 1\nstack: s\nconnections:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n    provider_type: GitHub\n",
        "version: 1\nstack: s\naccount_id: \"123\"\n",
        "version: 1\nstack: s\nhosts:\n  - name: h\n    provider_type: GitHub\n    provider_endpoint: https://x.example.com\n",
        "version: 1\nstack: s\nhosts:\n  - name: h\n    provider_type: GitLabSelfManaged\n    provider_endpoint: http://x.example.com\n",
        "version: 1\nstack: s\nsafety: {max_delete_percent: 101}\n",
    ];
    for yaml in bad {
        let problems = schema_check::violations(&schema, &as_json(yaml));
        assert!(!problems.is_empty(), "the schema accepted:\n{yaml}");
        // The loader agrees.
        let dir = write(&[("c.yaml", yaml)]);
        assert!(
            load(&[dir.path().join("c.yaml")]).is_err(),
            "the loader accepted:\n{yaml}"
        );
    }
}

#[test]
fn every_file_in_tests_bad_inputs_fails_with_a_location() {
    let dir = repo().join("tests/bad-inputs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} bad inputs", files.len());
    // How fast the slowest are refused is for `cargo bench --bench scale`;
    // here the alias bomb must be stopped by the expansion budget, not by
    // running out of memory.
    for path in files {
        let err = match load(std::slice::from_ref(&path)) {
            Ok(_) => panic!("{} loaded, but it is meant to be bad", path.display()),
            Err(e) => e,
        };
        if path.ends_with("alias-bomb.yaml") {
            assert!(err.to_string().contains("expands to far more"), "{err}");
        }
        let name = path.file_name().unwrap().to_string_lossy();
        // Files that are bad as a whole have no place to point at.
        let whole = ["empty.yaml", "only-comments.yaml"].contains(&name.as_ref());
        for d in &err.0 {
            assert!(
                whole || d.line.is_some() && d.column.is_some(),
                "{}: no location in {d}",
                path.display()
            );
            assert!(
                d.to_string().starts_with(&path.display().to_string()),
                "{d}"
            );
        }
    }
}
