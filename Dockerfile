# syntax=docker/dockerfile:1
# TradersFlow server image: build the fat jar with Maven, run it on a JRE as a non-root user.
#   docker build -t tradersflow .
#   docker compose up            (with Postgres 16 and Redis 7; see compose.yaml)

# ---- build ---------------------------------------------------------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# Dependencies first, in a layer of their own: it is rebuilt only when pom.xml changes.
COPY pom.xml ./
RUN mvn -B -q dependency:go-offline
COPY sql ./sql
COPY src/main ./src/main
# The commit tf_build_info reports (.git is not in the build context):
#   docker build --build-arg TF_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG TF_COMMIT=unknown
RUN mvn -B -q -DskipTests -Dtf.commit="$TF_COMMIT" package

# ---- run -----------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre
# curl for the health check (explicit, so it does not depend on what the base image happens to hold).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tradersflow \
 && useradd --system --uid 10001 --gid tradersflow --home-dir /app --no-create-home --shell /usr/sbin/nologin tradersflow \
 && mkdir -p /app/data/files /app/data/dev \
 && chown -R tradersflow:tradersflow /app/data
WORKDIR /app
COPY --from=build /build/target/tradersflow.jar /app/tradersflow.jar

# One JSON object per log line. Uploaded files and (development-only) generated keys live under
# /app/data: mount a volume there. In production set TF_TLS_CERT/TF_TLS_KEY, TF_JWT_PRIVATE_KEY,
# TF_DATA_KEY and TF_URL_SIGNING_KEY instead of relying on generated ones.
ENV TF_LOG_FORMAT=json \
    TF_STORAGE_DIR=/app/data/files \
    TF_DEV_DATA_DIR=/app/data/dev
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 8080 8443

# Readiness over plain HTTP (the listener answers /health/* directly, no TLS needed): 503 while
# Postgres or Redis is unreachable, so the orchestrator sees the instance as unhealthy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
  CMD curl -fsS --max-time 2 "http://127.0.0.1:${TF_HTTP_PORT:-8080}/health/ready" > /dev/null || exit 1

# Exec form: the JVM is PID 1 and gets SIGTERM directly, so in-flight requests finish (up to 10 s).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/tradersflow.jar"]
