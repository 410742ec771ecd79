#!/bin/sh
# Container entry point: runs `bairelay <arguments>` (default `serve`) from the image's checkout
# with the permissions in $BAIRELAY_PERMISSIONS, offline (--cached-only). `serve` gets
# `--config $BAIRELAY_CONFIG` when that file exists (mounted); otherwise it runs on its defaults.
set -eu
# Deno refuses an empty DENO_V8_FLAGS: empty (the image's default) means V8's defaults.
if [ -z "${DENO_V8_FLAGS:-}" ]; then unset DENO_V8_FLAGS; fi
if [ "$#" -eq 0 ]; then set -- serve; fi
if [ "$1" = serve ] && [ -f "${BAIRELAY_CONFIG:-}" ]; then
  shift
  set -- serve --config "$BAIRELAY_CONFIG" "$@"
fi
# shellcheck disable=SC2086 # BAIRELAY_PERMISSIONS is a list of flags
exec deno run $BAIRELAY_PERMISSIONS --cached-only /opt/bairelay/main.ts "$@"
