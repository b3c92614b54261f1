# orgtrail's container image: one image with orgtrail-collector, orgtrail-agent and orgtrailctl,
# installed from the project's own Debian packages (cpack -G DEB) on debian:12. Multi-stage: the
# build stage compiles and packages; the runtime stage installs the .deb files and their Debian
# dependencies, nothing else (no compiler, no sources).
#
#   docker build --build-arg ORGTRAIL_VERSION=0.1.0 -t registry.example.org/orgtrail/orgtrail:0.1.0 .
#   buildah bud --build-arg ORGTRAIL_VERSION=0.1.0 -t registry.example.org/orgtrail/orgtrail:0.1.0 .
#
# ORGTRAIL_VERSION must equal the project version (CMakeLists.txt `project(... VERSION ...)`): the
# build stops otherwise, so the tag the Kubernetes manifests pull (deploy/k8s/kustomization.yaml,
# `images:`) is always the version the binaries report. DEBIAN_IMAGE picks the base (a mirror of
# debian:12). Tested by tests/scripts/container_image_test.sh (buildah, a debian:12 base made
# with debootstrap, then the collector started from the image).
ARG DEBIAN_IMAGE=debian:12

FROM ${DEBIAN_IMAGE} AS build
ARG ORGTRAIL_VERSION=0.1.0
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates file \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      librocksdb-dev libssl-dev zlib1g-dev libboost-program-options-dev libgoogle-perftools-dev libdeflate-dev \
      libsimdjson-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev \
      libyaml-cpp-dev libre2-dev libxml2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN project_version="$(sed -n 's/^project(orgtrail VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" \
 && if [ "$project_version" != "$ORGTRAIL_VERSION" ]; then \
      echo "ORGTRAIL_VERSION=$ORGTRAIL_VERSION but the sources are version $project_version" >&2; exit 1; fi \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DORGTRAIL_BUILD_TESTS=OFF -DORGTRAIL_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" --target orgtrail-collector orgtrail-agent orgtrailctl \
 && cd /build && cpack -G DEB \
 && mkdir /debs && cp /build/orgtrail-collector_*.deb /build/orgtrail-agent_*.deb /build/orgtrailctl_*.deb /debs/

FROM ${DEBIAN_IMAGE} AS runtime
ARG ORGTRAIL_VERSION=0.1.0
LABEL org.opencontainers.image.title="orgtrail" \
      org.opencontainers.image.description="Self-hosted organization-wide audit trail: collector, agent and orgtrailctl" \
      org.opencontainers.image.version="${ORGTRAIL_VERSION}"
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /debs /tmp/debs
# The packages' postinst creates the service user with systemd-sysusers, which an image has not:
# the user of deploy/systemd/orgtrail.sysusers.conf is made here with useradd.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates /tmp/debs/*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/debs \
 && groupadd --system --gid 65532 orgtrail \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/orgtrail --shell /usr/sbin/nologin orgtrail \
 && mkdir -p /var/lib/orgtrail && chown orgtrail:orgtrail /var/lib/orgtrail
# UID/GID 65532: the runAsUser/runAsGroup of deploy/k8s.
USER 65532:65532
WORKDIR /var/lib/orgtrail
# The manifests choose the program (command: [orgtrail-collector] / [orgtrail-agent]).
CMD ["orgtrailctl", "--help"]
