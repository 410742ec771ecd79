#!/bin/sh
# Container entry point: runs `bairelay <arguments>` (default `serve`) with the release's launcher
# (/opt/bairelay/bin/bairelay: the serve task's permissions and V8 flags, offline). `serve` gets
# `--config $BAIRELAY_CONFIG` when that file exists (mounted); otherwise it runs on its defaults.
set -eu
if [ "$#" -eq 0 ]; then set -- serve; fi
if [ "$1" = serve ] && [ -f "${BAIRELAY_CONFIG:-}" ]; then
  shift
  set -- serve --config "$BAIRELAY_CONFIG" "$@"
fi
exec /opt/bairelay/bin/bairelay "$@"
