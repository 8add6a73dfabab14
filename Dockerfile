# syntax=docker/dockerfile:1
#
# One image for all four claimchain services, the migrations and the ops commands. The command picks what runs:
#   docker run IMAGE dist/apps/<service>/src/main.js      claim-intake | treatment-verification | ledger-anchoring | payout
#   docker run IMAGE dist/scripts/dlq.js list <topic>     dead letters (see docs/operations.md)
#   docker run IMAGE dist/tools/verifier/src/main.js ...  claimchain-verify, the auditor's CLI
# deploy/k8s runs it this way, and also runs migrations and topic creation from the built scripts (see its Jobs).
#
# Build from the repository root: docker build -t claimchain:<version> .
# Not built on the development machines (they have no Docker engine); deploy/k8s/manifests.spec.ts checks that every
# path this file and the manifests start exists in what `npm run build` produces.

# Node 22 LTS: Node 20 is end of life (2026-04-30). The code supports Node >= 20.19 (package.json engines) and its
# tests run on 20; override with --build-arg NODE_IMAGE=... and pin a digest (node:22-bookworm-slim@sha256:...) in CI.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so a source-only change reuses this layer. No install scripts: nothing here needs one.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY scripts scripts
COPY tools tools
COPY bench bench
RUN npm run build \
  && rm -rf dist/bench \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the app user: the process cannot change its own code (and the pods also mount
# the root filesystem read-only).
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The official image's unprivileged "node" user, numerically so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 3001 3002 3003 3004 9464
ENTRYPOINT ["node"]
CMD ["-e", "console.error('name what to run, e.g. dist/apps/claim-intake/src/main.js (see the Dockerfile)'); process.exit(2)"]
