#!/usr/bin/env bash
# Installs everything the interop suite drives: Debian's nginx, haproxy, chromium, chromium-driver, curl,
# nghttp2-client (nghttp, h2load) and openssl (the HTTP/2 cases' throwaway certificate), and the
# pinned PyPI packages of requirements.txt for the python3 on PATH. Idempotent: when everything is already there it
# only checks (a second or two) and installs nothing. Fails (exit 1) when anything cannot be installed; the suite
# itself treats a missing tool as an error, never as a skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"  # nginx and haproxy live in /usr/sbin

# Debian packages and a command each one provides.
declare -A debian=(
    [nginx]=nginx
    [haproxy]=haproxy
    [chromium]=chromium
    [chromium-driver]=chromedriver
    [curl]=curl
    [nghttp2-client]=nghttp
    [openssl]=openssl
)
missing=()
for package in "${!debian[@]}"; do
    command -v "${debian[$package]}" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "interop install: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq -o DPkg::Lock::Timeout=300
    # policy-rc.d keeps the packages' own services (nginx, haproxy) from being started: the suite runs its own.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        created_policy=1
    fi
    status=0
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/tmp/interop-apt.log 2>&1 || status=$?
    ((created_policy)) && rm -f "$policy"
    if ((status)); then
        tail -30 /tmp/interop-apt.log >&2
        echo "interop install: apt-get install failed ($status)" >&2
        exit 1
    fi
fi

# PyPI packages: install only when some pinned version is not the installed one.
if ! python3 - "$here/requirements.txt" <<'PY'
import sys
from importlib import metadata
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, version = line.split("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
then
    echo "interop install: python3 -m pip install -r requirements.txt"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r "$here/requirements.txt"
fi

# Everything must now be there.
for package in "${!debian[@]}"; do
    command -v "${debian[$package]}" >/dev/null 2>&1 || { echo "interop install: ${debian[$package]} (Debian $package) is still missing" >&2; exit 1; }
done
echo "interop install: ok"
