# The ct-coordinator worker image (docker-compose.yml builds it). glibc base: the Temporal SDK's
# native core has no musl build, so no Alpine. Build stage: the exact lockfile, `npm run build`
# (dist/ and the prebuilt workflow bundle), then dev dependencies pruned; the runtime stage carries
# only what the worker runs, as the unprivileged `node` user.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities activities
COPY client client
COPY config config
COPY contracts contracts
COPY infra infra
COPY observability observability
COPY starts starts
COPY workers workers
COPY workflows workflows
COPY scripts/build-workflow-bundle.ts scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
# jemalloc under Node and the SDK's core: glibc's malloc keeps what they free in its per-thread
# arenas, ~200 MB per worker at thousands of watched jobs (docs/production.md, "Memory"). Linked
# at one path whatever the architecture, so LD_PRELOAD names it once; MALLOC_CONF is its tuning
# (stack/allocator.ts JEMALLOC_CONF says why).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2 \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production \
    CT_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The pipeline config the worker reads by default (CT_CONFIG names another, e.g. a mounted file).
COPY config/pipelines.yaml config/
USER node
# The worker drains in-flight tasks on SIGTERM (the SDK's shutdown) before it exits; give it
# time: docker-compose.yml sets stop_grace_period.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "dist/workers/healthcheck.js"]
# Node itself as PID 1 (not npm), so SIGTERM reaches the worker; the V8 flags are package.json's
# config.workerNodeOptions, as `npm start` passes them (test/stacks/compose.test.ts checks they agree).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "dist/workers/main.js"]
