# syntax=docker/dockerfile:1
# The pg-event-bridge daemon. Build from the repository root:
#   docker build -t pg-event-bridge .
#   docker run --rm -v "$PWD/config.ini:/config.ini:ro" pg-event-bridge /config.ini
# Stage "workspace" is the whole built workspace (the examples' docker-compose files run their
# listen_events / generate_events scripts from it); the final stage is the daemon alone.

FROM node:20-bookworm-slim AS workspace
# corepack's signature check cannot be relied on offline; the pinned pnpm comes from npm instead.
RUN npm install -g pnpm@10.34.9 && npm cache clean --force
WORKDIR /repo
# Dependencies first, from the lockfile only, so source edits do not refetch them.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm build

# The cli package with its production dependencies only (workspace packages copied in as they
# would be published: their dist and package.json), in /out.
FROM workspace AS deploy
RUN pnpm --filter @pg-event-bridge/cli deploy --prod --legacy /out \
 && rm -rf /out/src /out/test /out/tsconfig*.json /out/tsup.config.ts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deploy /out /app
RUN ln -s /app/dist/bin.js /usr/local/bin/pg-event-bridge \
 && chmod +x /app/dist/bin.js
# The image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
# Metrics and health, when [bridge] metrics_port (or PGPROXY_BRIDGE-METRICS_PORT) is set to 9187.
EXPOSE 9187
ENTRYPOINT ["pg-event-bridge"]
CMD ["--help"]
