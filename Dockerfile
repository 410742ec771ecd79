# bairelay container image: `bairelay serve` (wake server UDP 9999 + 58200, push listener TCP 443,
# control API and /healthz on 127.0.0.1:9899) as a non-root user.
#
#   docker build -t bairelay .        # needs the network at build time only (npm packages, apt)
#   docker compose up -d              # compose.yaml: host networking (it says why)
#
# Configuration: mount a TOML file at /etc/bairelay/config.toml (sample_config.toml documents
# every key; without a file `serve` runs on its defaults), and pass the MQTT login as
# BAIRELAY_MQTT_USERNAME and BAIRELAY_MQTT_PASSWORD in the environment if you like. State (the
# camera registry) is in the volume /var/lib/bairelay. Other subcommands run the same way:
#   docker exec bairelay bairelay-entrypoint doctor

# The Deno runtime, pinned to the version the project is tested with (.tools/package.json), from
# the official image: the `bin` variant holds only the executable, at /deno.
ARG DENO_VERSION=2.9.6
FROM docker.io/denoland/deno:bin-${DENO_VERSION} AS deno

# Stage 1: fetch every npm dependency into a Deno cache, so the container starts offline.
FROM docker.io/library/debian:bookworm-slim AS build
COPY --from=deno /deno /usr/local/bin/deno
ENV DENO_DIR=/opt/bairelay/deno-dir DENO_NO_UPDATE_CHECK=1
WORKDIR /opt/bairelay
COPY deno.json deno.lock main.ts ./
COPY cli/ cli/
COPY lib/ lib/
COPY scripts/addon_run.ts scripts/task_flags.ts scripts/
COPY deploy/container/ deploy/container/
# BUILD_CA_FILE: a CA bundle (mounted into the build) for a TLS-intercepting proxy, if any.
ARG BUILD_CA_FILE
RUN if [ -n "${BUILD_CA_FILE:-}" ]; then export DENO_CERT="$BUILD_CA_FILE"; fi \
  && deno cache --frozen main.ts scripts/addon_run.ts deploy/container/healthcheck.ts
# The flags `serve` runs with (permissions, V8 flags): deno.json's serve task, their one source.
RUN deno run --allow-read scripts/task_flags.ts serve >deno-flags

# Stage 2: the runtime image.
FROM docker.io/library/debian:bookworm-slim
COPY --from=deno /deno /usr/local/bin/deno
# The file capability CAP_NET_BIND_SERVICE lets the non-root user bind TCP 443 (camera pushes)
# and, with [dns] enable, port 53; nothing else is granted. setcap is removed again afterwards.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin \
  && setcap cap_net_bind_service=+ep /usr/local/bin/deno \
  && apt-get purge -y --auto-remove libcap2-bin \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10443 bairelay \
  && useradd --uid 10443 --gid bairelay --no-create-home --home-dir /var/lib/bairelay --shell /usr/sbin/nologin bairelay \
  && mkdir -p /var/lib/bairelay /etc/bairelay \
  && chown bairelay:bairelay /var/lib/bairelay
COPY --from=build /opt/bairelay /opt/bairelay
COPY --chmod=0755 deploy/container/entrypoint.sh /usr/local/bin/bairelay-entrypoint

# XDG_STATE_HOME=/var/lib makes the non-root default state directory /var/lib/bairelay (the
# volume). Permissions and V8 flags: /opt/bairelay/deno-flags, made from deno.json above.
ENV DENO_DIR=/opt/bairelay/deno-dir \
    DENO_NO_UPDATE_CHECK=1 \
    NO_COLOR=1 \
    XDG_STATE_HOME=/var/lib \
    BAIRELAY_CONFIG=/etc/bairelay/config.toml
VOLUME /var/lib/bairelay
USER 10443:10443
EXPOSE 9999/udp 58200/udp 443/tcp 9899/tcp
# /healthz answers without a token; BAIRELAY_HEALTHZ names another address when [api] listen moves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-env", "/opt/bairelay/deploy/container/healthcheck.ts"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/bairelay-entrypoint"]
CMD ["serve"]
