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
    # too, unless the options choose a port or a server of their own, or several servers (each
    # takes a free port: heygen-cli refuses --port with --instances above 1).
    instances=1
    previous=
    for arg in "$@"; do
      [ "$previous" = --instances ] && instances=$arg
      case "$arg" in
        --port | --port=* | --url | --url=* | -h | --help) exec node heygen-cli/dist/main.js "$@" ;;
        --instances=*) instances=${arg#--instances=} ;;
      esac
      previous=$arg
    done
    [ "$instances" = 1 ] && exec node heygen-cli/dist/main.js --port "${PORT:-3000}" "$@"
    # Several instances share a redis-server of the run's own, which the image does not have;
    # heygen-cli would say to apt-get it. Anything but a number is heygen-cli's to refuse.
    case "$instances" in
      '' | *[!0-9]*) ;;
      *)
        if [ "$instances" -gt 1 ] 2> /dev/null && [ -z "${REDIS_SERVER:-}" ] \
          && ! command -v redis-server > /dev/null; then
          echo "heygen: --instances $instances needs redis-server, which this image does not have: leave out --instances, or run several API replicas on Redis with compose.yaml (\`docker compose up\`)" >&2
          exit 1
        fi
        ;;
    esac
    exec node heygen-cli/dist/main.js "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
