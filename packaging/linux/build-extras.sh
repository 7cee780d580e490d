#!/bin/sh
# Writes the shell completions and man pages the .deb installs, made by the built binary from
# its own clap definitions (so they always match its options). Run before `cargo deb`:
#
#   cargo build --release && packaging/linux/build-extras.sh && cargo deb --no-build
#
# Usage: build-extras.sh [OUT]   (OUT defaults to target/extras; SEQBOX names the binary,
# default target/release/seqbox). Writes OUT/completions/{seqbox,_seqbox,seqbox.fish} and
# OUT/man/seqbox*.1; replaces only those files.
set -eu
cd "$(dirname "$0")/../.."
bin=${SEQBOX:-target/release/seqbox}
out=${1:-target/extras}
mkdir -p "$out/completions" "$out/man"
rm -f "$out"/man/seqbox*.1
"$bin" completions bash >"$out/completions/seqbox"
"$bin" completions zsh >"$out/completions/_seqbox"
"$bin" completions fish >"$out/completions/seqbox.fish"
"$bin" manpages "$out/man" >/dev/null
echo "completions and $(ls "$out"/man | wc -l) man pages in $out"
