# syntax=docker/dockerfile:1
# Greenlight's container image: `greenlight controller` on Node.js 24 LTS, with production
# dependencies only, running as a non-root user without a shell. test/production-install.test.ts
# builds the same install (compile, npm pack, unpack, npm ci --omit=dev with the lockfile) and runs the
# controller from it against a real API server.
#
#   docker build -t greenlight:dev .

ARG NODE_VERSION=24

# 1. Build: compile the TypeScript and pack the package exactly as npm would publish it (the files
#    listed in package.json), then install its production dependencies from the lockfile.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY test/slack-emulator ./test/slack-emulator
COPY crds ./crds
COPY config ./config
COPY examples ./examples
COPY hack/build-tools.sh ./hack/build-tools.sh
COPY hack/tools ./hack/tools
RUN npm run build \
  && npm pack --ignore-scripts --pack-destination /tmp \
  && mkdir /app \
  && tar -xzf /tmp/greenlight-*.tgz -C /app --strip-components=1 \
  && cp package-lock.json /app/
WORKDIR /app
# Type declarations and source maps of dependencies are not needed to run (about 40% of node_modules).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm package-lock.json \
  && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

# 2. Run: distroless Node.js 24 (glibc and node only: no shell, no npm), as uid/gid 65532, which the
#    Helm chart's pod security context names.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="greenlight" \
  org.opencontainers.image.description="Approvals for machines: a Kubernetes operator that decides ApprovalRequests with CEL policies and people in Slack" \
  org.opencontainers.image.licenses="Apache-2.0"
# A 4 MiB young generation instead of V8's 64 MiB: the controller's allocations are small and short-lived
# (docs/benchmarks.md, F4: about 110 MiB less RSS with 6,000 requests stored).
ENV NODE_ENV=production \
  NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=build --chown=0:0 /app /app
USER 65532:65532
# /metrics, /healthz and /readyz, Slack interactivity.
EXPOSE 8080 8081 3000
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/main.js"]
CMD ["controller"]
