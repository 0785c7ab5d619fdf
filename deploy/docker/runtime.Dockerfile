# Builds the MACP runtime daemon from the monorepo root:
#   docker build -f deploy/docker/runtime.Dockerfile -t macp-ts/runtime .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npx -y pnpm@10 install --frozen-lockfile \
 && npx -y pnpm@10 turbo run build --filter=@macp/runtime... \
 && npx -y pnpm@10 --filter @macp/runtime deploy --prod --legacy /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MACP_BIND_ADDR=0.0.0.0:50051 \
    MACP_METRICS_ADDR=0.0.0.0:9464 \
    MACP_DATA_DIR=/var/lib/macp
WORKDIR /app
COPY --from=build /out /app
RUN mkdir -p /var/lib/macp && chown node:node /var/lib/macp
USER node
EXPOSE 50051 9464
VOLUME ["/var/lib/macp"]
ENTRYPOINT ["node", "dist/main.js"]
