# The stateless-operator image: compiled in a build stage, run from dist/ and production dependencies as a non-root user.
# Build: docker build --build-arg COMMIT=$(git rev-parse HEAD) -t ghcr.io/stateless-operator/stateless-operator:0.1.0 .
# The base image is the Node version the project pins (package.json devDependencies "node"); a
# release pins it further by digest: FROM node:24.21.0-bookworm-slim@sha256:<digest>.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Exactly the lock file; no dependency runs install scripts (none of the runtime ones needs one).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` is this tsc call; it is run with the image's node, not the npm `node` shim
# that --ignore-scripts leaves uninstalled. Then the dev dependencies go.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts \
 && npm cache clean --force
# The commit the image is built from, for stateless_operator_build_info{commit} and --version
# (src/platform/build.ts reads the file; without it the commit is "unknown").
ARG COMMIT=""
RUN printf '{"commit":"%s"}\n' "$COMMIT" > dist/build-info.json

FROM node:24.21.0-bookworm-slim
ARG COMMIT=""
LABEL org.opencontainers.image.title="stateless-operator" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# Nothing at run time needs npm or corepack; fewer tools, fewer CVEs to triage.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# Owned by root, read-only to the process: the operator writes nothing to its filesystem.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's `node` user, by number, so the kubelet can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# Exec form: node is PID 1 and gets SIGTERM directly; no shell is involved.
ENTRYPOINT ["node", "--optimize-for-size", "--max-semi-space-size=1", "dist/cli/main.js"]
CMD ["run"]
