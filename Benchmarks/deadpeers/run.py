#!/usr/bin/env python3
"""Dead peers (issue 14): how long until a peer that vanished without a word is noticed, side by side.

Run as root, from the repository root:

    swift build -c release && python3 Benchmarks/deadpeers/run.py            # full run, about 2 minutes
    python3 Benchmarks/deadpeers/run.py --quick --check                        # CI: short settings, bounds checked

Three scenarios, each timed from the moment the peer vanished (or stopped reading):
  (a) a client silently dropped mid-stream: every packet of its connection is dropped, as by a NAT or a mobile
      network that lost the client. The stream is quiet (the backend sent one event, then nothing), so only a
      proxy's own heartbeats put bytes in flight. Figure: seconds until the BACKEND sees its connection end.
  (b) a client that stays connected but never reads again, while the backend keeps writing (EVENT_BYTES-byte
      events, EVENTS_PER_TICK of them every TICK_S). The client's SO_RCVBUF is CLIENT_RCVBUF bytes, so its
      window closes at once. Figure: seconds until the BACKEND sees its connection end. Also measured: when the
      client's unread bytes stopped growing (its window closed), the most bytes the proxy's kernel send queue
      held for the client (/proc/net/tcp tx_queue) and when it stopped growing, and when the backend's own
      writes first blocked.
  (c) a backend host silently dropped mid-stream while the stream is quiet (every packet of the backend's
      connection dropped). Figure: seconds until the CLIENT is told: its response ends, its connection closes
      or is reset, or it receives an `event: error`.

Three paths, each scenario with its own fresh proxy, all nine (three with --quick) at the same time:
  ssekeeper-defaults  `ssekeeper run` with listen, upstream and route only: every timeout at its default
  ssekeeper-short     the same plus SHORT_SETTINGS (idle_timeout 2s: a heartbeat after ~0.66 s of silence;
                      client_ack_timeout 2s; client_send_timeout 3s; upstream_dead_timeout 3s;
                      sse_upstream_error_event on). In (b) client_ack_timeout is below client_send_timeout on
                      purpose: Linux ends a connection whose window stayed shut for TCP_USER_TIMEOUT, and
                      ssekeeper suspends that timer while its send watch sees a live client with a closed window,
                      so (b) must still end by client_send_timeout. A directive the binary's `ssekeeper check` rejects is left out and
                      reported (its default then applies). The files: isolation.py (namespace, rules),
                      proxies.py (the proxies, the settings), trial.py (one scenario through one proxy).
  nginx               Debian's nginx as Benchmarks/compare.py runs it (its NGINX_CONF: proxy_buffering off,
                      HTTP/1.1 upstream, proxy_read_timeout and proxy_send_timeout 24h as SSE users set them;
                      send_timeout and everything else at nginx's defaults).

Isolation: the script re-executes itself under `unshare --net` (a private network namespace that disappears with
it), brings that namespace's `lo` up and uses loopback addresses only: clients bind 127.0.0.2, backends listen on
127.0.0.3, proxies listen on 127.0.0.1. A peer is dropped with nft (or iptables) rules in the namespace's INPUT
hook matching its address and port, both directions. INPUT, not OUTPUT: a packet dropped in OUTPUT is refused
inside the sender's own stack (a local transmit error), which is not what a vanished peer looks like; dropped at
INPUT, the packet left the sender and is lost, as on a real network. The host's own rules are
never touched. nftables (or iptables) is installed with apt-get when neither binary exists, nginx with
Benchmarks/install.sh (full run only), both before entering the namespace.

Caps: 90 s per scenario in the full run, 20 s with --quick (--cap S overrides). A peer not noticed within the
cap is reported as "> cap".

Expected bounds for ssekeeper (from its effective settings; heartbeat interval = idle_timeout x 0.33), and the
directive its warning must name (--check fails when another one ended the stream):
  (a) heartbeat interval + min(client_ack_timeout, client_send_timeout) + 3 s; the smaller of the two
  (b) client_send_timeout + one heartbeat interval (the watch's clock starts at its first look, on a heartbeat pop or
      once ssekeeper's own queue backs up) + 1.5 s + the measured time until the client's window closed; always
      client_send_timeout (the kernel's zero-window limit is suspended while the watch runs)
  (c) upstream_dead_timeout + 3 s; upstream_dead_timeout

Exit status: 0 when every trial ran (and, with --check, every short directive was accepted and every ssekeeper
trial met its bound and named the expected directive); 1 when a trial broke (a stream that did not open, a proxy
that died) or, with --check, one of those failed; 2 on setup errors (not root, no binary, no nginx, no nft or
iptables, no namespace).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

from isolation import NETNS_MARK, SetupError, enter_checked_namespace, firewall_tool, Firewall, install_with_apt, \
    log, network_namespace
from proxies import NginxProxy, SSEKeeperProxy, accepted_short_settings, compare, \
    short_settings
from trial import QUIET_BEFORE_DROP_S, SETUP_TIMEOUT_S, EVENT_BYTES, EVENTS_PER_TICK, TICK_S, CLIENT_RCVBUF, Trial

SCRIPT = os.path.abspath(__file__)
SCENARIOS = {
    "a": "(a) client silently dropped -> backend told",
    "b": "(b) client never reads -> backend told",
    "c": "(c) backend host silently dropped -> client told",
}
PATHS = ["ssekeeper-defaults", "ssekeeper-short", "nginx"]
HEARTBEAT_FRACTION = 0.33
SLACK_S = 3.0  # (a) and (c): kernel timer granularity, retransmission backoff, the check's own wake-ups
SEND_SLACK_S = 1.5  # (b): a backlog is looked at every quarter of client_send_timeout (at most 1 s), plus wake-ups
FULL_CAP_S, QUICK_CAP_S = 90.0, 20.0
# the directive ssekeeper names in the warning it logs when it ends a stream for a dead or stalled peer
END_REASON = re.compile(r"\((client_ack_timeout|client_send_timeout|upstream_dead_timeout)[^)]*\)")


def prepare(args):
    """Checks and installs what the run needs, in the host's namespace (apt-get needs the network)."""
    if os.geteuid() != 0:
        raise SetupError("run as root: the experiment creates a network namespace and firewall rules in it")
    if not os.access(args.binary, os.X_OK):
        raise SetupError("no ssekeeper binary at %s (swift build -c release)" % args.binary)
    if not shutil.which("unshare"):
        raise SetupError("unshare (util-linux) is missing")
    if firewall_tool() is None:
        install_with_apt("nftables")
    if firewall_tool() is None:
        raise SetupError("neither nft nor iptables is available")
    if not args.quick and compare.find_nginx() is None:
        r = subprocess.run(["bash", os.path.join(compare.REPO, "Benchmarks", "install.sh")])
        if r.returncode != 0 or compare.find_nginx() is None:
            raise SetupError("nginx is missing and Benchmarks/install.sh could not install it")
    if subprocess.run(["unshare", "--net", "true"]).returncode != 0:
        raise SetupError("unshare --net failed: no private network namespace here")


# ---------------------------------------------------------------------------------------------- the run

def expected_bound(scenario, settings, result):
    """ssekeeper's expected bound in seconds for one trial, and the directive it should name when it ends the
    stream (None, None for nginx). The shorter of the two client limits acts first in (a) and (b)."""
    if settings is None:
        return None, None
    ack, send = settings["client_ack_timeout"], settings["client_send_timeout"]
    if scenario == "a":
        return (settings["idle_timeout"] * HEARTBEAT_FRACTION + min(ack, send) + SLACK_S,
                "client_ack_timeout" if ack <= send else "client_send_timeout")
    if scenario == "b":
        return (send + settings["idle_timeout"] * HEARTBEAT_FRACTION + SEND_SLACK_S
                + result.get("client_window_closed_s", 0.0), "client_send_timeout")
    return settings["upstream_dead_timeout"] + SLACK_S, "upstream_dead_timeout"


def make_proxy(args, path, scenario, accepted, overrides):
    if path == "nginx":
        return NginxProxy(compare.find_nginx())
    settings = short_settings(accepted, overrides, scenario) if path == "ssekeeper-short" else []
    return SSEKeeperProxy(args.binary, path, settings)


def run_all(args):
    """Inside the namespace: every scenario through every path at once; returns the report."""
    enter_checked_namespace()
    firewall = Firewall()
    accepted, overrides, rejected = accepted_short_settings(args.binary)
    for name, value, reason in rejected:
        log("deadpeers: this binary rejects `%s %s;` (%s); ssekeeper-short runs without it" % (name, value, reason))
    cap = args.cap or (QUICK_CAP_S if args.quick else FULL_CAP_S)
    names = ["ssekeeper-short"] if args.quick else PATHS
    trials = []
    try:
        for scenario in SCENARIOS:
            for path in names:
                trials.append(Trial(scenario, make_proxy(args, path, scenario, accepted, overrides), cap,
                                    firewall))
        threads = [threading.Thread(target=t.run, daemon=True) for t in trials]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, started + cap + 2 * SETUP_TIMEOUT_S + QUIET_BEFORE_DROP_S - time.monotonic()))
        for trial, thread in zip(trials, threads):
            if thread.is_alive():
                trial.result["error"] = "the trial did not finish"
    finally:
        for trial in trials:
            if hasattr(trial, "proxy_port"):
                try:
                    trial.result["proxy"] = trial.proxy.stop()
                except Exception as e:  # a proxy that cannot be stopped cleanly must not hide the others
                    trial.result["proxy"] = {"stop_error": str(e)}
            trial.close()
    results = []
    for trial in trials:
        r = trial.result
        settings = trial.proxy.effective()
        r["settings"] = settings
        bound, reason = expected_bound(r["scenario"], settings, r)
        r["logged_reasons"] = [m.group(1) for line in r.get("proxy", {}).get("log", [])
                               for m in [END_REASON.search(line)] if m]
        if bound is not None:
            r["bound_s"] = round(bound, 2)
            r["bound_met"] = r["seconds"] is not None and r["seconds"] <= r["bound_s"]
            r["expected_reason"] = reason
            r["reason_met"] = r["seconds"] is None or reason in r["logged_reasons"]
        if r.get("proxy", {}).get("alive_at_end") is False:
            r["error"] = r.get("error") or "the proxy died"
        results.append(r)
    return {"paths": names, "cap_s": cap, "short_settings": [list(s) for s in accepted],
            "short_overrides": overrides,
            "short_settings_rejected": [list(s) for s in rejected], "results": results,
            "firewall": os.path.basename(firewall.tool),
            "events_b": {"event_bytes": EVENT_BYTES, "events_per_tick": EVENTS_PER_TICK, "tick_s": TICK_S,
                         "client_rcvbuf": CLIENT_RCVBUF}}


def cell(r):
    if r.get("error"):
        return "broken"
    if r["seconds"] is None:
        return "> %g (not noticed)" % r["cap_s"]
    return "%.2f" % r["seconds"]


def render(report):
    rows = [["scenario (seconds until noticed)"] + report["paths"]]
    by_key = {(r["scenario"], r["path"]): r for r in report["results"]}
    for scenario, title in SCENARIOS.items():
        rows.append([title] + [cell(by_key[(scenario, p)]) for p in report["paths"]])
        rows.append(["    expected for ssekeeper <="] + [
            "%.2f" % by_key[(scenario, p)]["bound_s"] if by_key[(scenario, p)].get("bound_s") is not None else ""
            for p in report["paths"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.append("")
    for r in report["results"]:
        notes = ["noticed as: %s" % r["noticed_as"]] if r["noticed_as"] else []
        if r.get("logged_reasons"):
            notes.append("ssekeeper logged: " + r["logged_reasons"][0])
        if r.get("reason_met") is False:
            notes.append("EXPECTED %s" % r["expected_reason"])
        if r["scenario"] == "b":
            notes.append("client window closed at %.2f s (%d B unread); proxy send queue peaked at %d KiB, full at "
                         "%.2f s; backend blocked at %s" % (
                             r.get("client_window_closed_s", 0), r.get("client_unread_bytes", 0),
                             r.get("proxy_send_queue_max_bytes", 0) // 1024, r.get("proxy_send_queue_full_s", 0),
                             "%.2f s" % r["backend_first_blocked_s"] if r.get("backend_first_blocked_s") is not None
                             else "never"))
        if r.get("error"):
            notes.append("BROKEN: " + r["error"])
        if r.get("bound_met") is False:
            notes.append("BOUND MISSED" if r["bound_s"] <= r["cap_s"] else
                         "its bound lies beyond the cap (counts as missed for --check)")
        lines.append("(%s) %-19s %s" % (r["scenario"], r["path"], "; ".join(notes)))
        if r.get("reason_met") is False or r.get("bound_met") is False:
            # The proxy's own warnings, so a failure in CI can be read from its log alone.
            lines.extend("      log: " + line for line in r.get("proxy", {}).get("log", []))
    if report["short_settings_rejected"]:
        lines.append("")
        lines.append("rejected by this binary (left out of ssekeeper-short, its defaults apply): " + ", ".join(
            "%s %s" % (n, v) for n, v, _ in report["short_settings_rejected"]))
    lines.append("short settings used: " + " ".join("%s %s;" % (n, v) for n, v in report["short_settings"]) + "".join(
        " (%s) with %s" % (scenario, " ".join("%s %s;" % o for o in overrides.items()))
        for scenario, overrides in report["short_overrides"].items()))
    return "\n".join(lines)


def parse_arguments(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the head of this file for the scenarios, the bounds and the isolation.")
    ap.add_argument("--quick", action="store_true", help="only ssekeeper with short settings, caps of %g s"
                    % QUICK_CAP_S)
    ap.add_argument("--check", action="store_true", help="exit 1 when an ssekeeper bound is missed or a short "
                    "directive is rejected")
    ap.add_argument("--cap", type=float, help="seconds each scenario waits at most (default %g, --quick %g)"
                    % (FULL_CAP_S, QUICK_CAP_S))
    ap.add_argument("--binary", default=compare.SSEKEEPER_BIN, help="the ssekeeper binary (default: the release build)")
    ap.add_argument("--json", help="write the report to this file")
    args = ap.parse_args(argv)
    args.binary = os.path.abspath(args.binary)
    return args


def main(argv):
    args = parse_arguments(argv)
    if NETNS_MARK not in os.environ:
        try:
            prepare(args)
        except SetupError as e:
            log("deadpeers: setup: %s" % e)
            return 2
        env = dict(os.environ, **{NETNS_MARK: network_namespace()})
        return subprocess.run(["unshare", "--net", "--", sys.executable, SCRIPT] + argv, env=env).returncode
    started = time.monotonic()
    try:
        report = run_all(args)
    except SetupError as e:
        log("deadpeers: setup: %s" % e)
        return 2
    report["command"] = "python3 Benchmarks/deadpeers/run.py " + " ".join(argv)
    report["machine"] = compare.machine_info(compare.find_nginx() if not args.quick else None, args.binary)
    report["wall_s"] = round(time.monotonic() - started, 1)
    print(render(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    broken = [r for r in report["results"] if r.get("error")]
    missed = [r for r in report["results"] if r.get("bound_met") is False or r.get("reason_met") is False]
    if broken:
        log("deadpeers: %d trial(s) broke" % len(broken))
        return 1
    if args.check and (missed or report["short_settings_rejected"]):
        log("deadpeers: check failed: %d bound(s) missed or ended for another reason, %d short directive(s) rejected"
            % (len(missed), len(report["short_settings_rejected"])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))