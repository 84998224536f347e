#!/bin/sh
# The image's entry point (Dockerfile):
#   (no argument) | cli [options]   the integration run (heygen-cli), honouring JOB_TIME
#   --option ...                    the integration run with these options
#   api                             the API alone, on 0.0.0.0:${PORT:-3000}
#   anything else                   run as a command (e.g. sh)
set -eu
# The application root (/app in the image), wherever this script is: the packaging test runs it too.
cd "$(dirname "$0")/.."

mode=${1:-cli}
case "$mode" in
  api)
    shift
    exec node heygen-api/dist/main.js "$@"
    ;;
  cli | -*)
    [ "$mode" = cli ] && [ "$#" -gt 0 ] && shift
    # The run's own server listens on PORT, so that the HEALTHCHECK finds /health during the run
    # too, unless the options choose a port or a server of their own.
    for arg in "$@"; do
      case "$arg" in
        --port | --port=* | --url | --url=* | -h | --help) exec node heygen-cli/dist/main.js "$@" ;;
      esac
    done
    exec node heygen-cli/dist/main.js --port "${PORT:-3000}" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
