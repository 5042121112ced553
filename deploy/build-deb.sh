#!/usr/bin/env bash
# Builds the Debian package ssekeeper_<version>_<arch>.deb with dpkg-deb and the base system (coreutils, sed, grep,
# gzip, findutils, ldd); no packaging tools from outside Debian:
#   /usr/bin/ssekeeper                         the release binary, Swift runtime linked in (--static-swift-stdlib)
#   /etc/ssekeeper/proxy.conf                  conffile, from proxy.conf.example (checked with `ssekeeper check`)
#   /etc/logrotate.d/ssekeeper                 conffile: rotates /var/log/ssekeeper/*.log, then SIGUSR1 (reopen)
#   /lib/systemd/system/ssekeeper.service      deploy/ssekeeper.service, with /usr/bin/ssekeeper
#   /usr/share/man/man8/ssekeeper.8.gz         docs/ssekeeper.8
#   /usr/share/doc/ssekeeper/copyright
# The version is the one `ssekeeper version` prints (SSEKeeperCommand.version); the architecture is dpkg's.
#
# usage: deploy/build-deb.sh [--binary PATH] [--out DIR]
#   --binary PATH   package this binary (it must be a --static-swift-stdlib release build) instead of running
#                   `swift build -c release --static-swift-stdlib` first
#   --out DIR       where the .deb is written (default: .build/deb); its path is the last line printed
set -euo pipefail
cd "$(dirname "$0")/.."
binary=""
out=.build/deb
while (($#)); do
    case $1 in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "build-deb: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -z $binary ]]; then
    swift build -c release --static-swift-stdlib
    binary=.build/release/ssekeeper
fi
[[ -x $binary ]] || { echo "build-deb: $binary is not an executable" >&2; exit 1; }
if ldd "$binary" | grep -Ei 'swift|dispatch|foundation|BlocksRuntime'; then
    echo "build-deb: $binary links the Swift runtime (above); build it with --static-swift-stdlib" >&2
    exit 1
fi
version_line=$("$binary" version)
[[ $version_line == *", release, "* ]] || { echo "build-deb: $binary is not a release build: $version_line" >&2; exit 1; }
version=$(cut -d' ' -f2 <<<"$version_line")
arch=$(dpkg --print-architecture)

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/ssekeeper" "$root/etc/logrotate.d" \
    "$root/lib/systemd/system" "$root/usr/share/man/man8" "$root/usr/share/doc/ssekeeper"
install -m 0755 "$binary" "$root/usr/bin/ssekeeper"

# The example, with its header pointing at the installed paths; it must pass `ssekeeper check` as installed.
sed -e 's|^# Validate a file with:  ssekeeper check -c proxy.conf.example$|# Validate with:  ssekeeper check -c /etc/ssekeeper/proxy.conf|' \
    -e 's|^# Run with:              ssekeeper run -c proxy.conf.example$|# Run with:       systemctl enable --now ssekeeper   (reload: systemctl reload ssekeeper; man ssekeeper)|' \
    proxy.conf.example >"$root/etc/ssekeeper/proxy.conf"
grep -q '^# Validate with:  ssekeeper check -c /etc/ssekeeper/proxy.conf$' "$root/etc/ssekeeper/proxy.conf" ||
    { echo "build-deb: proxy.conf.example's header changed; update the sed above" >&2; exit 1; }
chmod 0644 "$root/etc/ssekeeper/proxy.conf"
"$binary" check -c "$root/etc/ssekeeper/proxy.conf" >/dev/null

install -m 0644 deploy/debian/logrotate "$root/etc/logrotate.d/ssekeeper"
sed 's|/usr/local/bin/ssekeeper|/usr/bin/ssekeeper|g' deploy/ssekeeper.service >"$root/lib/systemd/system/ssekeeper.service"
chmod 0644 "$root/lib/systemd/system/ssekeeper.service"
! grep -q /usr/local "$root/lib/systemd/system/ssekeeper.service" || { echo "build-deb: unit still names /usr/local" >&2; exit 1; }
gzip -9n <docs/ssekeeper.8 >"$root/usr/share/man/man8/ssekeeper.8.gz"
chmod 0644 "$root/usr/share/man/man8/ssekeeper.8.gz"
install -m 0644 deploy/debian/copyright "$root/usr/share/doc/ssekeeper/copyright"
for script in postinst prerm postrm; do
    install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"
done
printf '%s\n' /etc/ssekeeper/proxy.conf /etc/logrotate.d/ssekeeper >"$root/DEBIAN/conffiles"

# The C and C++ runtime the static Swift runtime still needs (glibc's libraries are in libc6).
depends="libc6"
ldd "$binary" | grep -q 'libstdc++' && depends+=", libstdc++6"
ldd "$binary" | grep -q 'libgcc_s' && depends+=", libgcc-s1"
installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: ssekeeper
Version: $version
Architecture: $arch
Maintainer: ssekeeper maintainers <maintainers@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: $depends
Recommends: logrotate
Suggests: libssl3
Section: httpd
Priority: optional
Homepage: https://github.com/ssekeeper/ssekeeper
Description: reverse proxy that keeps Server-Sent Events streams alive
 ssekeeper forwards every byte a backend streams at once and, when the backend
 goes quiet, injects SSE comment heartbeats so that load balancers, CDNs and
 proxies with idle timeouts do not cut the stream. Events are never changed.
 It closes the backend connection as soon as the client leaves, drains on
 SIGTERM with a retry: hint, reloads on SIGHUP, and serves Prometheus metrics.
EOF
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/ssekeeper_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
