#!/bin/sh
# Runs the compiled bench. 10,000 streams need ~10,000 sockets in the server and as many in the
# client: raise the open-files limit here, for the bench's processes only, never in the product.
set -e
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/dist/main.js" "$@"
