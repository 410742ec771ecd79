# bairelay container image: `bairelay serve` (wake server UDP 9999 + 58200, push listener TCP 443,
# control API and /healthz on 127.0.0.1:9899) as a non-root user, made from the portable release
# tarball (the same one scripts/release ships and the Home Assistant add-on unpacks):
#
#   scripts/release                   # dist/release/: the tarballs (needs the npm registry)
#   docker build -t bairelay .        # unpacks this machine's tarball; apt for libcap2-bin
#   docker compose up -d              # compose.yaml: host networking (it says why)
#
# Configuration: mount a TOML file at /etc/bairelay/config.toml (sample_config.toml documents
# every key; without a file `serve` runs on its defaults), and pass the MQTT login as
# BAIRELAY_MQTT_USERNAME and BAIRELAY_MQTT_PASSWORD in the environment if you like. State (the
# camera registry) is in the volume /var/lib/bairelay. Other subcommands run the same way:
#   docker exec bairelay bairelay-entrypoint doctor

# Stage 1: the release tarball of the build's architecture, checked and unpacked.
FROM docker.io/library/debian:bookworm-slim AS unpack
COPY dist/release/SHA256SUMS dist/release/bairelay-*-linux-*.tar.gz /tmp/release/
RUN set -eu; cd /tmp/release; set -- bairelay-*-linux-"$(uname -m)".tar.gz; \
  grep " $1\$" SHA256SUMS | sha256sum -c -; \
  tar -xzf "$1" -C /opt; \
  mv "/opt/${1%.tar.gz}" /opt/bairelay

# Stage 2: the runtime image.
FROM docker.io/library/debian:bookworm-slim
COPY --from=unpack /opt/bairelay /opt/bairelay
# The file capability CAP_NET_BIND_SERVICE lets the non-root user bind TCP 443 (camera pushes)
# and, with [dns] enable, port 53; nothing else is granted. setcap is removed again afterwards.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin \
  && setcap cap_net_bind_service=+ep /opt/bairelay/runtime/deno \
  && apt-get purge -y --auto-remove libcap2-bin \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10443 bairelay \
  && useradd --uid 10443 --gid bairelay --no-create-home --home-dir /var/lib/bairelay --shell /usr/sbin/nologin bairelay \
  && mkdir -p /var/lib/bairelay /etc/bairelay /var/cache/bairelay \
  && chown bairelay:bairelay /var/lib/bairelay /var/cache/bairelay
COPY --chmod=0755 deploy/container/entrypoint.sh /usr/local/bin/bairelay-entrypoint

# XDG_STATE_HOME=/var/lib makes the non-root default state directory /var/lib/bairelay (the
# volume). Permissions, V8 flags, the bundled application and DENO_NO_UPDATE_CHECK=1 are the
# release launcher's (/opt/bairelay/bin/bairelay).
# DENO_DIR: Deno's cache (its analysis of the code, so that later starts skip it), out of the
# state volume.
ENV NO_COLOR=1 \
    DENO_DIR=/var/cache/bairelay \
    XDG_STATE_HOME=/var/lib \
    BAIRELAY_CONFIG=/etc/bairelay/config.toml
VOLUME /var/lib/bairelay
USER 10443:10443
EXPOSE 9999/udp 58200/udp 443/tcp 9899/tcp
# /healthz answers without a token; BAIRELAY_HEALTHZ names another address when [api] listen moves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/opt/bairelay/libexec/healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/bairelay-entrypoint"]
CMD ["serve"]
