#!/usr/bin/env bash
# Build the GF(2^8) kernels and the CRC for aarch64 and run their cross-checks under
# qemu-aarch64 (NEON against the scalar code). Needs: rustup target add
# aarch64-unknown-linux-gnu; apt-get install gcc-aarch64-linux-gnu qemu-user.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo test --target aarch64-unknown-linux-gnu "$@"
