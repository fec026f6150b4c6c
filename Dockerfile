# syntax=docker/dockerfile:1
# tickflow's image: `docker build -t tickflow .` (or `docker compose --profile app up -d --build`).
# Three stages: `build` bundles the CLI into dist/ (esbuild, a development tool), `deps` makes the
# production dependency tree from the lock file, and the runtime stage gets only those and the files
# that run, read-only, as the unprivileged `node` user.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The lock's versions exactly, without the development tools (biome, vitest, typescript, playwright,
# esbuild); --ignore-scripts: `prepare` would build, which the build stage did, so patch-package
# (postinstall: patches/, a fix to kafkajs) is run by hand, and fails the build if a patch does not apply.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY patches ./patches
RUN npx patch-package --error-on-fail

FROM ${NODE_IMAGE} AS runtime
# Off loopback tickflow refuses to start without WEB_USERNAME/WEB_PASSWORD or API_TOKEN: the image
# is never open. TICKFLOW_HOME is the only place it writes (service state of `services up`).
ENV NODE_ENV=production \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=3000 \
    WORKER_PORT=3001 \
    TICKFLOW_HOME=/home/node/.tickflow
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json tsconfig.json schedules.yaml ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY migrations ./migrations
USER node
# 3000: the scheduler's web UI, API and /metrics; 3001: `tickflow worker`'s /health, /ready, /metrics.
EXPOSE 3000 3001
# /health of whichever server this process runs (the scheduler's WEB_PORT or a worker's WORKER_PORT).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "Promise.any([process.env.WEB_PORT || 3000, process.env.WORKER_PORT || 3001].map((port) => fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) }).then((res) => { if (!res.ok) throw new Error(String(res.status)); }))).then(() => process.exit(0), () => process.exit(1))"]
# bin/tickflow execs node itself, so tickflow is PID 1 and gets SIGTERM: active runs finish first.
ENTRYPOINT ["./bin/tickflow"]
CMD ["scheduler"]
