#!/bin/sh
# Installs Debian's chromium when it is missing: the browser test of `paydesk serve-web`
# (tests/web) drives it headless. Needs root (or sudo) and the Debian package mirror.
set -eu

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "ensure-chromium: /usr/bin/chromium is missing and this user cannot install it;" >&2
    echo "ensure-chromium: run as root: apt-get install -y chromium" >&2
    exit 1
fi
echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
/usr/bin/chromium --version >/dev/null 2>&1 || {
    echo "ensure-chromium: chromium was installed but does not start" >&2
    exit 1
}
