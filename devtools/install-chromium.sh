#!/usr/bin/env bash
# Chromium for the browser test of the local Swagger UI (tests/e2e/test_docs_browser.py), from the
# distribution's packages: `make test` runs this once. It never fails the build: when Chromium cannot
# be installed (no apt-get, neither root nor password-less sudo, no network), it says so and exits 0,
# and the browser test is skipped with the reason.
set -u

found=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$found" ]; then
    echo "browser test: using $found"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "browser test: Chromium is not installed and there is no apt-get to install it; the test will be skipped"
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "browser test: Chromium is not installed, and installing it needs root (or password-less sudo):"
    echo "  sudo apt-get install chromium    (the test is skipped until then)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# An image often ships without package lists: read them first when apt does not know the package.
if ! apt-cache show chromium >/dev/null 2>&1; then
    "${as_root[@]}" apt-get update -q || true
fi
if "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation; then
    echo "browser test: Chromium installed"
else
    echo "browser test: apt-get could not install chromium; the test will be skipped"
fi
exit 0
