#!/usr/bin/env bash
# Old habit, new engine: drop, recreate, migrate and seed the development database.
exec invoke reset-db "$@"
