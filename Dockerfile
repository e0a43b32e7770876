# syntax=docker/dockerfile:1
# codestar-reconcile as a container: a static (musl) binary on distroless,
# which has CA certificates (/etc/ssl/certs, read by rustls-native-certs)
# and nothing else: no shell, no package manager.
#
#   docker build -t codestar-reconcile .
#   docker run --rm -v "$PWD:/work" -w /work -e AWS_REGION -e AWS_ACCESS_KEY_ID \
#     -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN codestar-reconcile plan -f infra/
#
# Alpine's Rust targets musl natively, so the same file builds linux/amd64
# and linux/arm64 (docker buildx --platform) without a cross toolchain.

FROM rust:1.95-alpine AS build
# musl-dev: ring's C and assembly; git: build.rs puts the commit in --version.
# Unpinned on purpose: Alpine drops superseded package versions from its
# mirrors, so a pinned apk version breaks the build within weeks; the image
# tag already fixes the Alpine release.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev git
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/codestar-reconcile /codestar-reconcile \
    && /codestar-reconcile --version

# The digest pins the exact image; the tag says what it is. Bump both together.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /codestar-reconcile /usr/local/bin/codestar-reconcile
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/codestar-reconcile"]
CMD ["--help"]
