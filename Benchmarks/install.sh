#!/usr/bin/env bash
# Installs what Benchmarks/compare.py needs beyond Swift, Python 3 and gcc: nginx from Debian's packages
# (nginx-light, or nginx when -light is not offered). Does nothing when nginx is already installed.
# The package's own service is never started here: compare.py runs nginx itself, unprivileged-style, from a temp dir.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: nginx is missing; run as root (or: apt-get install nginx-light)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: do not let the package start its own nginx service on port 80.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
if apt-cache show nginx-light >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
else
    apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
