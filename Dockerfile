# syntax=docker/dockerfile:1
#
# chainsmith's container image: the compiled controller, its production dependencies and Node.
#
#   docker build -t chainsmith:dev .
#   docker run --rm chainsmith:dev --help
#
# Runtime base: distroless Node.js 20 (Debian 12), `nonroot` variant. It holds Node and CA
# certificates and nothing else: no shell, no package manager, no npm. chainsmith needs none of them
# at run time (it never shells out; registry, KMS and Kubernetes calls are all made from Node), and
# a signing controller that holds a private key should give an intruder as few tools as possible.
# The builder stages use the official Debian slim image of the same Node major, so the compiled
# output and node_modules are produced by the Node version they run on.
# Node 20 is the major chainsmith's tests run on (package.json engines: >= 20.19), so the image runs
# the Node the code was tested with. `npm run image` (e2e/image/build.sh) builds this Dockerfile without
# Docker or a registry, passing both ARGs as local bases assembled from Debian's nodejs 20 packages.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# --- build: every dependency, then the TypeScript compiler ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is cached until package-lock.json changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only, installed from the same lockfile --------------------------
# A separate stage rather than `npm prune` in `build`, so no dev dependency (typescript, tsx) can
# leak into the image through a stale node_modules.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Type declarations and source maps are never read at run time; dropping them halves node_modules
# (about 200 MB to 100 MB, mostly @kubernetes/client-node and the Azure SDK).
RUN npm ci --omit=dev --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

# --- runtime ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="chainsmith" \
      org.opencontainers.image.description="A Tekton Chains-compatible signing controller: SLSA provenance and cosign signatures for every TaskRun and PipelineRun." \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module", which Node needs to load dist/ as ES modules.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# 65532 is distroless' `nonroot` user; the Kubernetes manifests run as the same uid.
USER 65532:65532
EXPOSE 9090
# Distroless keeps node at /nodejs/bin/node (there is no `node` on PATH in this image).
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/main.js"]
CMD ["controller"]
