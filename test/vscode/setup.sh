#!/usr/bin/env bash
# Moved to scripts/setup-code-server.sh (shared with `npm start`); kept for existing callers.
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/setup-code-server.sh" "$@"
