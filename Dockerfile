# syntax=docker/dockerfile:1
#
# One image for both processes of the service; docker-compose.yml chooses the process with `command:`
#   worker: npm run start:worker   (Temporal worker; runs knex migrations to latest on start)
#   api:    npm run start:api      (Fastify HTTP API)
# TypeScript runs through tsx (a runtime dependency), so there is no compile step; the worker bundles
# workflows/ with webpack at start, which is why the workflow sources are in the image. What only development
# needs (tools/: the local-stack launcher behind npm start and npm test; test/, bench/) stays out.

# Node 20.20, the version development machines and CI run the tests on. Not below 20.19: a dependency
# (cookie@2 via fastify's light-my-request) is ESM-only and relies on require(esm), on by default from 20.19.
ARG NODE_IMAGE=node:20.20-bookworm-slim

# ---- production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev: jest, eslint, typescript, ... stay out. Install scripts are kept: @swc/core and esbuild
# (used by the worker's webpack bundler and by tsx) check their platform binaries in them.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Application files stay owned by root, read-only for the process (it writes only to /tmp and its home).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig*.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
COPY config ./config
COPY docker/api-healthcheck.mjs ./docker/api-healthcheck.mjs

# The node image's unprivileged user (uid 1000, home /home/node for npm's cache and logs).
USER node

EXPOSE 3000

# Probes the API's /healthz (200 only when PostgreSQL and Temporal answer). Meaningful for the API
# process only: docker-compose.yml disables it for the worker, which serves no HTTP.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/docker/api-healthcheck.mjs"]

# Default process when run without a command; docker-compose.yml always sets `command:` explicitly.
CMD ["npm", "run", "start:api"]
