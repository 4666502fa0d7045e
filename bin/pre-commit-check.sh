#!/usr/bin/env bash
# Old habit, new engine: --full runs `invoke full-check`, otherwise the fast checks (lint + unit tests).
if [ "${1:-}" = "--full" ]; then shift; exec invoke full-check "$@"; else invoke lint && exec invoke test "$@"; fi
