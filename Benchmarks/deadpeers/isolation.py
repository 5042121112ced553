"""Isolation for Benchmarks/deadpeers/run.py: the firewall tool, the private network namespace, the drop rules.

Nothing here touches the namespace the script was started in: enter_checked_namespace() refuses to go on unless
the process runs in another network namespace than its starter (whose inode run.py passes in NETNS_MARK).
"""

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading

NETNS_MARK = "DEADPEERS_IN_NETNS"


class SetupError(Exception):
    """Something the experiment needs is missing (exit 2)."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def install_with_apt(package):
    """apt-get install PACKAGE, with policy-rc.d keeping its service (if any) from starting."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    policy = "/usr/sbin/policy-rc.d"
    created = not os.path.exists(policy)
    if created:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        log("deadpeers: installing %s with apt-get" % package)
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SetupError("installing %s failed: %s" % (package, e))
    finally:
        if created:
            os.remove(policy)


def firewall_tool():
    """'nft' or 'iptables', whichever exists (nft first); None when neither does."""
    for tool in ("nft", "iptables"):
        for candidate in (shutil.which(tool), "/usr/sbin/" + tool):
            if candidate and os.access(candidate, os.X_OK):
                return candidate
    return None


def network_namespace():
    return str(os.stat("/proc/self/ns/net").st_ino)


def enter_checked_namespace():
    """Refuses to go on in the namespace the script was started in (its inode is in NETNS_MARK), then brings the
    private namespace's lo up (SIOCSIFFLAGS)."""
    if network_namespace() == os.environ[NETNS_MARK]:
        raise SetupError("not in a private network namespace; refusing to add firewall rules")
    ifreq = "16sh22x"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack(ifreq, fcntl.ioctl(s, 0x8913, struct.pack(ifreq, b"lo", 0)))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack(ifreq, b"lo", flags | 0x1))  # SIOCSIFFLAGS, IFF_UP


class Firewall:
    """Drop rules in the namespace's INPUT hook: every packet from or to one address:port is lost."""

    def __init__(self):
        self.tool = firewall_tool()
        self.lock = threading.Lock()
        if os.path.basename(self.tool) == "nft":
            self._run([self.tool, "-f", "-"], "add table inet deadpeers\n"
                      "add chain inet deadpeers input { type filter hook input priority 0; policy accept; }\n")

    def _run(self, cmd, stdin=None):
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))

    def drop(self, host, port):
        with self.lock:
            if os.path.basename(self.tool) == "nft":
                self._run([self.tool, "-f", "-"],
                          "add rule inet deadpeers input ip saddr %s tcp sport %d drop\n"
                          "add rule inet deadpeers input ip daddr %s tcp dport %d drop\n" % (host, port, host, port))
            else:
                for side in (["-s", host, "--sport"], ["-d", host, "--dport"]):
                    self._run([self.tool, "-w", "-A", "INPUT", "-i", "lo", "-p", "tcp"] + side
                              + [str(port), "-j", "DROP"])
