# syntax=docker/dockerfile:1
#
# One image recipe for every UsageFlow service. The workspaces are built once (the `build` stage
# does not depend on SERVICE, so BuildKit builds it once and every service image reuses it); the
# `runtime` stage picks one service:
#
#   docker build --build-arg SERVICE=billing -t usageflow-billing .
#   docker run --env-file ... -p 4005:8080 usageflow-billing            # serves
#   docker run --env-file ... usageflow-billing migrate                  # migrates and exits
#
# SERVICE is a folder name under services/: identity, subscription, ingestion, aggregation,
# billing, webhook-dispatch. docker-compose.yml builds all six.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# manifests: only the workspaces' package.json files, so `npm ci` below is re-run only when a
# manifest or the lockfile changes, not on every source edit. (COPY cannot glob
# packages/*/package.json without flattening the folders; copying the trees and deleting all
# but package.json here gives the same cache key as long as the manifests are unchanged, and
# picks up a new workspace without editing this file.)
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY packages ./packages
COPY services ./services
RUN find packages services -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
# build: full install (dev dependencies included: typescript, turbo, @types/*) and turbo build.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
COPY --from=manifests /app ./
# --ignore-scripts: no install script is needed to compile (tsc and turbo ship as plain JS and
# prebuilt platform packages); it skips embedded-postgres' setup (local infra only) and the
# native builds testcontainers' optional ssh2/cpu-features would attempt without a toolchain.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json turbo.json ./
COPY packages ./packages
COPY services ./services
RUN npx turbo run build --output-logs=errors-only
# Keep only what runs: each workspace's dist/ without type declarations and build info,
# gathered under /out with the repository's layout.
RUN set -eu; \
    for dir in packages/*/ services/*/; do \
      dir="${dir%/}"; \
      mkdir -p "/out/$dir"; \
      cp -a "$dir/dist" "/out/$dir/dist"; \
    done; \
    find /out \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -type f -delete

# ---------------------------------------------------------------------------------------------
# prod-deps: production dependencies of the workspaces only. `--workspaces` installs every
# workspace's dependencies but not the root's own (embedded-postgres, ~100 MB, only for the
# local infra); `--omit=dev` drops typescript, jest, turbo and the @types/* dev packages.
# The npm workspace links (node_modules/@usageflow/* -> ../../packages/*) are created here and
# resolve once the runtime stage puts each package's package.json and dist/ in place.
# Nested installs (e.g. packages/contracts/node_modules/ajv) stay where npm put them.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
COPY --from=manifests /app ./
RUN npm ci --omit=dev --workspaces --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# runtime: one service. The layers before `ARG SERVICE` are identical for all six images, so
# they are stored once.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    PORT=8080
WORKDIR /app
# Code is owned by root and only readable by the `node` user the process runs as: a service
# writes nothing to its own filesystem (logs go to stdout, state to Postgres and Kafka).
COPY --from=prod-deps /app ./
COPY --from=build /out/packages ./packages

ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=<a folder under services/>' >&2; exit 1; }
ENV SERVICE=${SERVICE}
COPY --from=build /out/services/${SERVICE} ./services/${SERVICE}

USER node
EXPOSE 8080
# Liveness only (/healthz: the process answers). /readyz also checks Postgres and Kafka;
# docker-compose.yml uses that one. No curl in the slim image: Node 20's fetch does it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `sh -c` expands $SERVICE; `exec` makes node PID 1 so it receives SIGTERM itself and shuts down
# gracefully. Arguments given to `docker run` (CMD) are passed on: `... <image> migrate`.
ENTRYPOINT ["/bin/sh", "-c", "exec node \"services/$SERVICE/dist/main.js\" \"$@\"", "main.js"]
CMD []
