# DataMag360: one container with the server binary and the built site.
# Build:  docker build -t datamag360 .
# Run:    docker run -p 3000:3000 -v datamag360-data:/data datamag360
# Debian trixie: its Node.js (20.19) runs the pinned sass; same toolchain as CI.

FROM rust:1.95-trixie AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target \
    DATAMAG_TOOLS=/tools \
    WANT_BROWSER=0 \
    WANT_TEST_TOOLS=0
# Same script as CI: the pinned tools, the release server and the front end (built at once),
# then the site (wasm-bindgen, wasm-opt, css).
RUN scripts/build.sh --release

FROM debian:trixie-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin datamag \
 && mkdir -p /data && chown datamag /data
WORKDIR /app
COPY --from=build /src/target/release/datamag360 /app/datamag360
COPY --from=build /src/target/site-release /app/site
USER datamag
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATAMAG_SITE_ROOT=/app/site \
    DATAMAG_DATA_DIR=/data \
    LOG_FORMAT=json
EXPOSE 3000
VOLUME ["/data"]
# Liveness (/health): a database outage makes /ready fail, and restarting the container
# would not fix it. Orchestrators that route traffic use /ready (`healthcheck --ready`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/app/datamag360", "healthcheck"]
ENTRYPOINT ["/app/datamag360"]
CMD ["serve"]
