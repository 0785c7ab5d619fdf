# The MACP runtime daemon, built from the monorepo root:
#   docker build -f deploy/docker/runtime.Dockerfile -t macp-ts/runtime .
# Stage 1 builds the workspace closure of @macp/runtime; `pnpm deploy --prod` copies the package
# with its production dependencies only, so the final image holds no sources, tests or dev tools.
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
# The image's own non-root user (uid 1000); Kubernetes also sets runAsNonRoot.
USER node
EXPOSE 50051 9464
VOLUME ["/var/lib/macp"]
# The gRPC port accepts connections (TLS or not, so a TCP check fits every configuration).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["node", "-e", "require('net').connect(50051,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
