#!/usr/bin/env bash
# Installs what Benchmarks/compare.py needs beyond Swift, Python 3 and gcc: nginx from Debian's packages
# (nginx-light, or nginx when -light is not offered), and for `compare.py --tls` (issue 17) Debian's nghttp2-client
# (h2load, the handshake workload's clients) and openssl (the throwaway certificate), and the Python package h2,
# pinned as in Tests/Interop/requirements.txt (tlsload.py's HTTP/2 client). Does nothing when all are installed.
# The nginx package's own service is never started here: compare.py runs nginx itself, unprivileged-style, from a
# temp dir.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
H2_PIN="h2==4.1.0"

need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
h2_ok=1
python3 -c 'from importlib import metadata; import sys; sys.exit(metadata.version("h2") != sys.argv[1])' \
    "${H2_PIN#h2==}" 2>/dev/null || h2_ok=0
if [ ${#need[@]} -eq 0 ] && [ "$h2_ok" = 1 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: missing ${need[*]}$([ "$h2_ok" = 1 ] || echo " $H2_PIN"); run as root" \
        "(or: apt-get install nginx-light nghttp2-client openssl; python3 -m pip install $H2_PIN)" >&2
    exit 1
fi
if [ ${#need[@]} -gt 0 ]; then
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
    packages=()
    for p in "${need[@]}"; do
        if [ "$p" = nginx ]; then
            if apt-cache show nginx-light >/dev/null 2>&1; then packages+=(nginx-light); else packages+=(nginx); fi
        else
            packages+=("$p")
        fi
    done
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if [ "$h2_ok" = 0 ]; then
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$H2_PIN"
fi
command -v nginx >/dev/null 2>&1 && command -v h2load >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1
python3 -c 'import h2'
