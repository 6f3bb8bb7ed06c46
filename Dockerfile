# The worker and the API (docker-compose.yml picks the entry with `command`). TypeScript runs
# through tsx, as in development; the workflow bundle is built once here, so the worker
# loads it (WORKFLOW_BUNDLE_PATH) instead of bundling at every start.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
RUN mkdir -p dist && node_modules/.bin/tsx workers/bundle.ts dist/workflow-bundle.js
USER node
EXPOSE 3000
CMD ["node_modules/.bin/tsx", "api/server.ts"]
