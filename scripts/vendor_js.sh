#!/usr/bin/env bash
# Bring the JavaScript the built book needs offline (MathJax 3, require.js and the
# Jupyter widgets HTML manager) from the npm registry into book/_vendor/ (git-ignored).
# Sphinx copies that folder into _build/html/_static/ (html_static_path in _config.yml),
# and mathjax_path / nb_ipywidgets_js point there, so no page loads anything from a CDN.
# Idempotent: nothing is downloaded when the pinned versions are already in place.
set -euo pipefail

MATHJAX=3.2.2
REQUIREJS=2.3.8
HTML_MANAGER=1.0.15

root="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$root/book/_vendor"
want="mathjax@$MATHJAX requirejs@$REQUIREJS @jupyter-widgets/html-manager@$HTML_MANAGER"

if [[ -f "$vendor/VERSIONS" && "$(cat "$vendor/VERSIONS")" == "$want" ]]; then
    exit 0
fi

command -v npm >/dev/null || { echo "vendor_js.sh: npm is required (apt-get install npm)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "vendor_js.sh: fetching $want"
(cd "$tmp" && npm pack --silent $want >/dev/null)
for tgz in "$tmp"/*.tgz; do
    name="$(basename "$tgz" .tgz)"
    mkdir -p "$tmp/$name"
    tar xzf "$tgz" -C "$tmp/$name"
done

rm -rf "$vendor"
mkdir -p "$vendor/mathjax" "$vendor/requirejs" "$vendor/html-manager"
cp -r "$tmp/mathjax-$MATHJAX/package/es5/." "$vendor/mathjax/"
cp "$tmp/mathjax-$MATHJAX/package/LICENSE" "$vendor/mathjax/"
cp "$tmp/requirejs-$REQUIREJS/package/require.js" "$vendor/requirejs/"
cp "$tmp/requirejs-$REQUIREJS/package/LICENSE" "$vendor/requirejs/" 2>/dev/null || true
cp -r "$tmp/jupyter-widgets-html-manager-$HTML_MANAGER/package/dist/." "$vendor/html-manager/"
# only embed-amd.js (needs require.js) and the fonts it references are used
rm -f "$vendor"/html-manager/*.map "$vendor"/html-manager/embed.js "$vendor"/html-manager/libembed-amd.js
echo "$want" > "$vendor/VERSIONS"
echo "vendor_js.sh: JavaScript in $vendor"
