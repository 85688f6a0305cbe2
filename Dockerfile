# StreetEye server image: one image for every role (api, ingest, analytics); STREETEYE_ROLE picks.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would fetch CUDA files; the CPU binaries are in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN npm run build:console && npm prune --omit=dev

FROM node:20-bookworm-slim
# Debian's ffmpeg (5.1) is preferred over the npm-shipped 2018 static build when present on PATH.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data PORT=8080 TLS_PORT=8443
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 8443
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# One process (no tsx wrapper): SIGTERM reaches the server, which stops its sessions and hands its leases back.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "server/main.ts"]
