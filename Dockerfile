# diffplane in a container: a Debian 12 build stage, and a slim Debian 12 runtime with
# the binary, its shared libraries and a non-root user. Not built where diffplane's tests
# run (no container builder there): see docs/operations.md, "Container".
#   docker build -t diffplane --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -e MANAGEMENT_SECRET=sk_management_... -e DATABASE_URL=postgresql://... -p 4000:4000 diffplane
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config libcaf-dev libboost-dev libpqxx-dev libmsgpack-cxx-dev \
      nlohmann-json3-dev libcli11-dev libspdlog-dev libssl-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git is not copied (.dockerignore): the commit comes in as a build argument.
ARG GIT_COMMIT=unknown
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIFFPLANE_BUILD_TESTS=OFF \
      -DDIFFPLANE_BUILD_BENCH=OFF -DDIFFPLANE_GIT_COMMIT="${GIT_COMMIT}" \
 && cmake --build /build -j"$(nproc)" --target diffplane \
 && cmake --install /build --prefix /opt/diffplane --strip

FROM debian:12-slim
# The runtime libraries of the build stage's -dev packages; the embedded Postgres is not
# included: give the container a DATABASE_URL (packaging/compose.yaml runs one).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libpqxx-6.4 libspdlog1.10 \
      libfmt9 libssl3 libjemalloc2 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/diffplane --create-home \
      --shell /usr/sbin/nologin diffplane
COPY --from=build /opt/diffplane/ /usr/local/
USER diffplane
WORKDIR /var/lib/diffplane
ENV DIFFPLANE_LISTEN=0.0.0.0:4000 DIFFPLANE_LOG_FORMAT=json DIFFPLANE_DATA_DIR=/var/lib/diffplane
EXPOSE 4000
# GET /live answers 200 while the database answers; bash's /dev/tcp needs no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/4000 && printf 'GET /live HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/diffplane"]
CMD ["serve"]
