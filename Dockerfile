# Codex Pooler image: one binary, every role.
#   docker build -t codex-pooler:local .
#   docker run --rm -p 4000:4000 codex-pooler:local              # single node, SQLite in /var/lib/codex-pooler/data
#   docker run ... codex-pooler:local serve --role web|worker|scheduler
#   docker run ... codex-pooler:local migrate
# Everything comes from Debian packages (and npm for the admin UI), like on a developer machine.

########################################################################################################
# Build: the same toolchain as a developer machine (scripts/setup), then a Release build without tests.
FROM debian:12 AS build

ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src

# Packages first, in their own layer: it only reruns when scripts/setup changes.
COPY scripts/setup scripts/setup
RUN bash scripts/setup && rm -rf /var/lib/apt/lists/*

COPY . .
# Again with the whole tree: packages are already there, this only installs the npm projects.
RUN bash scripts/setup

ARG CMAKE_BUILD_TYPE=Release
# The build tree lives outside /src so a build/ directory copied from the host cannot interfere.
RUN cmake -S /src -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE}" \
      -DCXP_BUILD_TESTS=OFF \
 && cmake --build /build --parallel "$(nproc)"

# Collect what the runtime stage needs: the executable (built by edge/app) and the admin UI assets.
RUN set -eu; \
    mkdir -p /out/bin /out/share/codex-pooler/admin-ui; \
    bin=$(find /build -type f -name codex-pooler -perm -u+x | head -n 1); \
    test -n "$bin" || { echo "codex-pooler executable not found under /build" >&2; exit 1; }; \
    install -m 0755 "$bin" /out/bin/codex-pooler; \
    strip --strip-unneeded /out/bin/codex-pooler || true; \
    if [ -f admin-ui/package.json ]; then (cd admin-ui && npm run build --if-present); fi; \
    if [ -d admin-ui/dist ]; then cp -a admin-ui/dist/. /out/share/codex-pooler/admin-ui/; fi

########################################################################################################
# Runtime: Debian 12 with only the shared libraries the binary links against.
FROM debian:12-slim AS runtime

ENV DEBIAN_FRONTEND=noninteractive
# Runtime halves of the -dev packages used by the build (see `apt-cache depends libcaf-dev` etc.):
#   libcaf-dev -> libcaf-core0.17 libcaf-io0.17          libsoci-dev -> libsoci-{core,postgresql,sqlite3-}4.0
#   libpq-dev -> libpq5      libsqlite3-dev -> libsqlite3-0      libssl-dev -> libssl3
#   libargon2-dev -> libargon2-1      libspdlog-dev -> libspdlog1.10      libfmt-dev -> libfmt9
#   libjemalloc-dev -> libjemalloc2      libsimdjson-dev -> libsimdjson14
#   libboost-system-dev -> libboost-system1.74.0 (Asio/Beast are header-only; kept in case it is linked)
# ca-certificates for TLS to the upstream, tzdata for operator time zones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcaf-core0.17 libcaf-io0.17 \
      libsoci-core4.0 libsoci-postgresql4.0 libsoci-sqlite3-4.0 \
      libpq5 libsqlite3-0 libssl3 libargon2-1 libjemalloc2 libsimdjson14 \
      libspdlog1.10 libfmt9 libboost-system1.74.0 \
      ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 codex-pooler \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/codex-pooler \
      --shell /usr/sbin/nologin codex-pooler \
 && mkdir -p /var/lib/codex-pooler/data \
 && chown -R 10001:10001 /var/lib/codex-pooler

COPY --from=build /out/bin/codex-pooler /usr/local/bin/codex-pooler
COPY --from=build /out/share/codex-pooler /usr/share/codex-pooler

# Fail the build, not the first start, when a shared library is missing.
RUN if ldd /usr/local/bin/codex-pooler | grep 'not found'; then exit 1; fi

ENV PORT=4000 \
    CODEX_POOLER_DATA_DIR=/var/lib/codex-pooler/data \
    CODEX_POOLER_ADMIN_UI_DIR=/usr/share/codex-pooler/admin-ui \
    CODEX_POOLER_CLUSTER_PORT=4370

USER 10001:10001
WORKDIR /var/lib/codex-pooler
# Only the single-node SQLite default keeps state here; with PostgreSQL it is scratch space.
VOLUME ["/var/lib/codex-pooler/data"]
EXPOSE 4000 4370

# No curl in the image: ask /healthz over bash's /dev/tcp.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-4000} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM starts the drain (readiness turns 503, in-flight work gets CODEX_POOLER_SHUTDOWN_GRACE_MS).
STOPSIGNAL SIGTERM
ENTRYPOINT ["codex-pooler"]
CMD ["serve", "--role", "all"]
