#!/usr/bin/env bash
# Installs one pinned release of codestar-reconcile: downloads the archive
# that `dist` built for this machine and its `.sha256`, checks the checksum,
# and only then puts the binary in place. Used by action.yml; runs anywhere
# with bash, curl, tar and sha256sum (or shasum).
#
#   scripts/install.sh VERSION [INSTALL_DIR]
#
# VERSION is a release such as 0.1.0 (a leading v is accepted). INSTALL_DIR
# defaults to ~/.local/bin. Environment:
#   CODESTAR_RECONCILE_BASE_URL  where releases live, without the version:
#                                https://github.com/OWNER/REPO/releases/download
#                                (http:// is accepted, for a local mirror);
#   CODESTAR_RECONCILE_SHA256    the archive's expected SHA-256, if you pin it
#                                yourself; then the .sha256 file must agree;
#   CODESTAR_RECONCILE_TARGET    the target triple, if not this machine's.
#
# Exit codes: 0 installed; 1 error (nothing installed); 3 no archive for this
# version and target (nothing installed; action.yml then builds from source).
set -euo pipefail

readonly NO_RELEASE=3

die() {
  echo "install.sh: $*" >&2
  exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  die "usage: install.sh VERSION [INSTALL_DIR], e.g. install.sh 0.1.0 ~/.local/bin"
fi
version=${1#v}
install_dir=${2:-$HOME/.local/bin}
base_url=${CODESTAR_RECONCILE_BASE_URL:-}
[ -n "$base_url" ] || die "set CODESTAR_RECONCILE_BASE_URL to the releases' download URL, e.g. https://github.com/OWNER/codestar-reconcile/releases/download"
base_url=${base_url%/}
case "$base_url" in
  https://* | http://*) ;;
  *) die "CODESTAR_RECONCILE_BASE_URL must start with https:// or http://, not: $base_url" ;;
esac
case "$version" in
  *[!0-9A-Za-z.+-]* | "") die "not a version: $1 (expected something like 0.1.0)" ;;
esac

# The targets the release workflow builds (see dist-workspace.toml).
target=${CODESTAR_RECONCILE_TARGET:-}
if [ -z "$target" ]; then
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    *) die "no release is built for $(uname -s) $(uname -m); build from source: cargo install --locked --git <repository> --tag v$version codestar-reconcile" ;;
  esac
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "neither sha256sum nor shasum is installed; install coreutils (or perl's shasum)"
fi
command -v curl >/dev/null 2>&1 || die "curl is required; install it (e.g. apt-get install curl)"

archive="codestar-reconcile-$target.tar.gz"
url="$base_url/v$version/$archive"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the HTTP status; the body goes to $2. Redirects are followed (GitHub
# serves release assets from another host) but only to http(s).
fetch() {
  curl --silent --show-error --location --proto '=https,http' --proto-redir '=https,http' \
    --retry 3 --retry-connrefused --connect-timeout 10 --max-time 300 \
    --output "$2" --write-out '%{http_code}' "$1"
}

echo "Downloading $url" >&2
status=$(fetch "$url" "$work/$archive") || die "could not download $url (network error above)"
case "$status" in
  200) ;;
  404)
    echo "install.sh: codestar-reconcile $version has no release archive for $target at $url: check the version, or that it was released; nothing was installed" >&2
    exit "$NO_RELEASE"
    ;;
  *) die "downloading $url answered HTTP $status; nothing was installed" ;;
esac
status=$(fetch "$url.sha256" "$work/$archive.sha256") || die "could not download $url.sha256"
[ "$status" = 200 ] || die "the archive has no checksum file ($url.sha256 answered HTTP $status); refusing to install an unverified binary"

# dist writes `<hex> *<file name>`, as sha256sum does.
published=$(cut -d' ' -f1 <"$work/$archive.sha256" | head -n 1 | tr 'A-F' 'a-f')
case "$published" in
  *[!0-9a-f]* | "") die "$url.sha256 does not hold a SHA-256 (got: $(head -c 80 "$work/$archive.sha256")); nothing was installed" ;;
esac
[ ${#published} -eq 64 ] || die "$url.sha256 does not hold a SHA-256; nothing was installed"
actual=$(sha256 "$work/$archive")
if [ "$actual" != "$published" ]; then
  die "checksum mismatch for $archive: the release says $published, the download is $actual. The file is corrupt or was replaced; nothing was installed. Retry, and if it persists report it."
fi
pinned=$(printf '%s' "${CODESTAR_RECONCILE_SHA256:-}" | tr 'A-F' 'a-f')
if [ -n "$pinned" ] && [ "$pinned" != "$actual" ]; then
  die "checksum mismatch for $archive: you pinned $pinned, the release serves $actual; nothing was installed. Check the pin against the release page."
fi

mkdir "$work/unpacked"
tar -xzf "$work/$archive" -C "$work/unpacked" || die "$archive is not a readable .tar.gz; nothing was installed"
# dist puts the files under codestar-reconcile-<target>/.
binary=""
for candidate in "$work/unpacked/codestar-reconcile-$target/codestar-reconcile" "$work/unpacked/codestar-reconcile"; do
  if [ -f "$candidate" ]; then
    binary=$candidate
    break
  fi
done
[ -n "$binary" ] || die "$archive holds no codestar-reconcile binary; nothing was installed"
chmod 755 "$binary"
"$binary" --version >/dev/null 2>&1 || die "the binary in $archive does not run on this machine ($target); nothing was installed"

mkdir -p "$install_dir"
# Copy beside the destination, then rename: never a half-written binary.
cp "$binary" "$install_dir/.codestar-reconcile.$$"
mv -f "$install_dir/.codestar-reconcile.$$" "$install_dir/codestar-reconcile"
echo "Installed $("$install_dir/codestar-reconcile" --version) to $install_dir (sha256 $actual)" >&2
