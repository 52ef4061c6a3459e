#!/usr/bin/env bash
# Fails when the committed generated code (gqlgen, mockgen) is not what
# `make generate` produces from the current schema and ports. It generates in
# a scratch copy of the tree, so a developer's uncommitted work is untouched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tar -C "$root" --exclude=./.git --exclude=./.data --exclude=./bin -cf - . | tar -C "$scratch" -xf -
(cd "$scratch" && make -s generate >/dev/null)
status=0
for dir in graph ports/mocks; do
  if ! diff -r -q "$root/$dir" "$scratch/$dir" >/dev/null 2>&1; then
    echo "generated code in $dir is stale; run 'make generate' and commit the result:" >&2
    diff -r -u "$root/$dir" "$scratch/$dir" | head -40 >&2 || true
    status=1
  fi
done
exit $status
