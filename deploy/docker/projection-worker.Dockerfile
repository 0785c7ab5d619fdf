# The MACP projection worker, built from the monorepo root:
#   docker build -f deploy/docker/projection-worker.Dockerfile -t macp-ts/projection-worker .
# Stage 1 builds the workspace closure of @macp/projection-worker; `pnpm deploy --prod` copies the
# package with its production dependencies only (no control plane, no runtime, no test tools).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npx -y pnpm@10 install --frozen-lockfile \
 && npx -y pnpm@10 turbo run build --filter=@macp/projection-worker... \
 && npx -y pnpm@10 --filter @macp/projection-worker deploy --prod --legacy /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3002
WORKDIR /app
COPY --from=build /out /app
USER node
EXPOSE 3002
# Liveness only: /readyz also needs Postgres and NATS, which orchestrators check separately.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3002)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
