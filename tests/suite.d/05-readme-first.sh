#!/usr/bin/env bash
# Issue 15: the README's first command as root, before every other suite (so the README's two
# commands run in that order on one machine): it serves, mu-ctl finds and stops it, the packaging
# suite then skips next to its session and leaves it byte-identical, and only that session is
# removed. Skips (77) when not root or when /var/lib/mu-server or /run/mu-server already exist.
set -uo pipefail
exec bash "$(dirname "$0")/../readme-commands.sh" root
