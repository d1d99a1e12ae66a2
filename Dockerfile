# The admin microservice, configured only by environment (DATABASE_URL, PORT, TASKER_API_KEYS).
# Node 22: NestJS 12's @nestjs/common needs file-type, which declares Node 22.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY scripts/copy-sql.mjs ./scripts/copy-sql.mjs
COPY src ./src
# No `npm prune --omit=dev`: the service's NestJS and TypeORM packages are development (and peer)
# dependencies of this repository, which is the library's; pruning would leave the service unable to start.
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
EXPOSE 3000
CMD ["node", "dist/src/main.js"]
