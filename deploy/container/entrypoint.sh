#!/bin/sh
# Container entry point: runs `bairelay <arguments>` (default `serve`) from the image's checkout
# with the flags of deno.json's serve task (/opt/bairelay/deno-flags: permissions, V8 flags),
# offline (--cached-only). `serve` gets
# `--config $BAIRELAY_CONFIG` when that file exists (mounted); otherwise it runs on its defaults.
set -eu
# Deno refuses an empty DENO_V8_FLAGS (e.g. `-e DENO_V8_FLAGS=`): take it as "none".
if [ -z "${DENO_V8_FLAGS:-}" ]; then unset DENO_V8_FLAGS; fi
if [ "$#" -eq 0 ]; then set -- serve; fi
if [ "$1" = serve ] && [ -f "${BAIRELAY_CONFIG:-}" ]; then
  shift
  set -- serve --config "$BAIRELAY_CONFIG" "$@"
fi
flags=$(cat /opt/bairelay/deno-flags)
# shellcheck disable=SC2086 # a list of flags
exec deno run $flags --cached-only /opt/bairelay/main.ts "$@"
