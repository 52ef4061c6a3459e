#!/usr/bin/env bash
# Refreshes the GraphiQL assets embedded in wdai (adapters/httpapi/graphiql/assets)
# from the npm packages at the versions pinned below, so GraphiQL works with no
# network. Run it after changing a version, then commit the assets:
#
#   scripts/graphiql/refresh.sh
#
# Needs node and npm. The integrity of every tarball is checked by npm against
# the registry's published sha512.
set -euo pipefail

GRAPHIQL_VERSION=3.8.3
REACT_VERSION=18.3.1

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/adapters/httpapi/graphiql/assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" >/dev/null

mkdir -p "$out"
cp node_modules/react/umd/react.production.min.js "$out/react.production.min.js"
cp node_modules/react-dom/umd/react-dom.production.min.js "$out/react-dom.production.min.js"
cp node_modules/graphiql/graphiql.min.js "$out/graphiql.min.js"
cp node_modules/graphiql/graphiql.min.css "$out/graphiql.min.css"
for p in graphiql react react-dom; do
  cp "node_modules/$p/LICENSE" "$out/LICENSE.$p"
done
{
  echo "graphiql $GRAPHIQL_VERSION"
  echo "react $REACT_VERSION"
  echo "react-dom $REACT_VERSION"
} >"$out/VERSIONS"
(cd "$out" && sha256sum ./*.js ./*.css >SHA256SUMS)
echo "GraphiQL assets refreshed in $out:"
cat "$out/VERSIONS"
