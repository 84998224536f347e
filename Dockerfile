# syntax=docker/dockerfile:1
# heygen: the integration run by default, the API alone with the argument `api` (README, "Docker").
# Node 24 is the current LTS (Node 20 reached its end of life in April 2026); engines: >=20.19.
ARG NODE_IMAGE=node:24-slim

# ---- build: the full toolchain (dev dependencies), then every package's dist/ ----
# The output is plain JavaScript: build once on the builder's own platform, not under emulation.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY test-support/package.json test-support/
COPY heygen-api/package.json heygen-api/
COPY heygen-lib/package.json heygen-lib/
COPY heygen-cli/package.json heygen-cli/
# No dependency needs an install script (the only ones are telemetry and a no-op).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY test-support/ test-support/
COPY heygen-api/ heygen-api/
COPY heygen-lib/ heygen-lib/
COPY heygen-cli/ heygen-cli/
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NO_UPDATE_NOTIFIER=1
WORKDIR /app
COPY package.json package-lock.json ./
COPY test-support/package.json test-support/
COPY heygen-api/package.json heygen-api/
COPY heygen-lib/package.json heygen-lib/
COPY heygen-cli/package.json heygen-cli/
# heygen-cli depends on heygen-api, heygen-lib and (for its server launcher and disruption proxy)
# heygen-test-support through the workspace links npm ci creates.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/test-support/dist test-support/dist
COPY --from=build /app/heygen-api/dist heygen-api/dist
COPY --from=build /app/heygen-lib/dist heygen-lib/dist
COPY --from=build /app/heygen-cli/dist heygen-cli/dist
COPY docker/entrypoint.sh docker/entrypoint.sh
USER node
EXPOSE 3000
# /health answers in both modes: the integration run's server listens on PORT too (entrypoint.sh).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["cli"]
