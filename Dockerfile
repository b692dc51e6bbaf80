# nlq-server (and nlq-metasync, nlq) in a small image. Two stages: the first builds the
# relocatable release (scripts/release.sh: bin/ + lib/libduckdb.so), the second is
# debian-slim with that directory, a non-root user and a health check.
#
#   docker build -t nlq .
#   docker run -p 8080:8080 -e NLQ_API_KEYS=change-me -v nlq-data:/data nlq
#
# Without API keys the server refuses to listen beyond loopback, so NLQ_API_KEYS (or
# NLQ_API_KEYS_FILE with a mounted secret) is required. No Docker engine runs on the machine
# this was written on: the image is not built by the test suite; the release directory it
# copies is (scripts/release-check.sh), and bins/*/tests/deploy.rs checks that this file and
# deploy/ name only flags and variables the binaries accept.

FROM rust:1.95-bookworm AS build
# npm fetches the prebuilt libduckdb (scripts/duckdb-lib.sh).
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/target
RUN scripts/release.sh --out /dist && mv /dist/nlq-*-linux-x86_64 /dist/nlq

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin nlq \
    && mkdir -p /data && chown nlq /data
COPY --from=build /dist/nlq /opt/nlq
ENV PATH=/opt/nlq/bin:$PATH \
    NLQ_DATA_DIR=/data \
    NLQ_BIND=0.0.0.0:8080 \
    NLQ_LOG_FORMAT=json
USER nlq
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/opt/nlq/bin/nlq-server"]
