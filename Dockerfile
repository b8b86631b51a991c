# syntax=docker/dockerfile:1
# Greenlight's container image: `greenlight controller` on Node.js 24 LTS, bundled (no node_modules),
# running as a non-root user without a shell. test/production-install.test.ts builds the same
# folder (compile, bundle, package.json) and runs the controller from it against a real API server.
#
#   docker build -t greenlight:dev .

ARG NODE_VERSION=24

# 1. Build: compile the TypeScript (tsc), then bundle the CLI with its dependencies into bundle/
#    (scripts/bundle.ts): one chunk per command, unused library code left out — about 30 MiB less
#    memory than loading the dependencies from node_modules (docs/benchmarks.md).
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/bundle.ts
COPY src ./src
COPY test/slack-emulator ./test/slack-emulator
RUN npm run build

# 2. Run: distroless Node.js 24 (glibc and node only: no shell, no npm), as uid/gid 65532, which the
#    Helm chart's pod security context names.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="greenlight" \
  org.opencontainers.image.description="Approvals for machines: a Kubernetes operator that decides ApprovalRequests with CEL policies and people in Slack" \
  org.opencontainers.image.licenses="Apache-2.0"
# A 4 MiB young generation instead of V8's 64 MiB: with 1 MiB (F4) the objects of the 16 reconciles in
# flight survived most scavenges, and garbage collection took a fifth of the controller's CPU in a
# burst; 4 MiB costs about 6 MiB of RSS and about 20 % of the CPU per decision less (docs/benchmarks.md,
# F10). An old generation sized to the chart's 512Mi limit (less what is not heap) makes V8 collect it
# early instead of growing it towards its multi-GiB default (F11). glibc's malloc: at most two arenas
# (by default each thread that allocates, V8's compiler and garbage collector workers among them,
# gets its own, which keeps freed memory), and its mmap and trim thresholds fixed at their 128 KiB
# defaults (otherwise glibc raises both after a large block is freed, up to 32 and 64 MiB, and keeps
# what is freed below them): the main arena held 11-24 MiB after a burst without, 12-13 MiB with
# (F12). `--max-opt=2` (in the ENTRYPOINT: NODE_OPTIONS takes only a few V8 flags) makes Maglev V8's
# top tier: Turbofan never compiles, so the 5 MiB of the node executable that is Turbofan's compiler
# are never paged in: 3.5-5 MiB less at a burst's peak. The controller's own CPU per decision was no
# higher for it (Turbofan's compiles are saved); the policy engine alone is slower, still tens of
# microseconds a decision (decide() 29-36 us instead of 19: docs/benchmarks.md, F12). The benchmarks
# read this ENV and the ENTRYPOINT's node flags from here (bench/lib/build.ts).
ENV NODE_ENV=production \
  NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=384" \
  MALLOC_ARENA_MAX=2 \
  MALLOC_MMAP_THRESHOLD_=131072 \
  MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY --from=build --chown=0:0 /src/package.json /app/package.json
COPY --from=build --chown=0:0 /src/bundle /app/bundle
USER 65532:65532
# /metrics, /healthz and /readyz, Slack interactivity.
EXPOSE 8080 8081 3000
ENTRYPOINT ["/nodejs/bin/node", "--max-opt=2", "/app/bundle/main.mjs"]
CMD ["controller"]
