#!/usr/bin/env bash
# Old habit, new engine: --full runs `invoke full-check`, otherwise the fast checks (lint, the review of the
# revisions new since main, unit tests).
if [ "${1:-}" = "--full" ]; then shift; exec invoke full-check "$@"; else invoke lint && invoke review && exec invoke test "$@"; fi
