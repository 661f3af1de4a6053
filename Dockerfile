# Airlock's worker and approval service, one image: `airlock worker` (the default) or `airlock serve`.
# Build: docker build -t airlock .   Run: see docker-compose.yml.

# 1. Build: all dependencies, compile TypeScript, copy the inbox's static files.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY bench ./bench
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build

# 2. Run: production dependencies only, the compiled code, a user without privileges.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
# The example agent's sandbox, outbox and ledger; mount a volume here to keep them.
RUN mkdir -p /data && chown node:node /data
ENV AIRLOCK_HOME=/data
USER node
ENTRYPOINT ["node", "bin/airlock.js"]
CMD ["worker"]
