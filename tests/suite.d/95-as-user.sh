#!/usr/bin/env bash
# Issue 15: the README's first command and docs/install.md's "Without systemd" recipe as a
# throwaway ordinary user (socket under $XDG_RUNTIME_DIR, session in ~/.local/state), the
# packaging suite skipping as non-root, and a persistence subset as that user. Needs root to make
# the user; skips (77) otherwise. Reuses target/release binaries built by 05-readme-first.
set -uo pipefail
exec bash "$(dirname "$0")/../readme-commands.sh" user
