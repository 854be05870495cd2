"""`levelbelt scan` and `levelbelt link-test`: find belts, and check a link for loss.

    levelbelt scan [--seconds 5]             belts in Bluetooth range, strongest first
    levelbelt link-test URI [--seconds 60]   stream from a belt through BeltClient and
                                             print loss, reconnects and recovery

`link-test` is how a link is verified on real hardware (docs/troubleshooting.md): it
uses the same transport and client as the dashboard, and the belt's command key from
this host's key store when there is one (needed for RESEND; without it, missed samples
are reported as gaps). `link-test sim:` and `link-test sim+ble:` run the same path
against the simulated belt (the firmware on a simulated board, over USB framing or over
the BLE rig), signed with that belt's own key.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

SCAN_S = 5.0
REPORT_EVERY_S = 5.0


def _cmd_scan(args: argparse.Namespace) -> int:
    from levelbelt.transports import ble_link  # bleak loads only for this command

    belts = ble_link.scan_blocking(args.seconds)
    if not belts:
        print(f"no belts found in {args.seconds:g} s (switched on, in range, not connected?)")
        return 1
    print(f"{'name':<16} {'address':<38} {'RSSI':>5}  battery")
    for b in belts:
        battery = f"{b.battery_percent} %" if b.battery_percent is not None else "-"
        print(f"{b.name:<16} {b.address:<38} {b.rssi:>5}  {battery}")
    print(f"connect with ble:{belts[0].name}")
    return 0


def _key_for(uri: str) -> bytes | None:
    """The command key stored for a belt named in a `ble:` URI (keys are kept by name)."""
    from levelbelt import keys
    from levelbelt.errors import ConfigError
    from levelbelt.transports.ble_link import is_address
    from levelbelt.transports.transport import parse_uri

    scheme, target = parse_uri(uri)
    if scheme != "ble" or is_address(target):
        return None
    try:
        if not keys.has_key(target):
            return None
    except ConfigError:
        return None  # not a name a key could be stored under
    return keys.load_key(target)  # a damaged key file is an error worth stopping for


async def _link_test(uri: str, seconds: float) -> int:
    from levelbelt.belt_client import BeltClient
    from levelbelt.transports.transport import open_transport

    transport = open_transport(uri)
    key: bytes | None = getattr(transport, "key", None)  # a simulated belt's own key
    if key is None:
        key = _key_for(uri)
    client = BeltClient(transport, key=key)
    if key is None:
        print(f"{uri}: no command key on this host: missed samples cannot be resent")
    loop = asyncio.get_running_loop()
    task = loop.create_task(client.run())
    start = loop.time()
    try:
        while (left := start + seconds - loop.time()) > 0:
            await asyncio.sleep(min(REPORT_EVERY_S, left))
            s = client.stats
            print(
                f"{loop.time() - start:6.0f} s  {client.state:<10} samples {s.samples_logged:>7} "
                f"lost {s.samples_lost} ({s.loss_percent:.2f} %)  reconnects {s.reconnects}  "
                f"MTU {s.mtu or '-'}  RSSI {s.rssi_dbm if s.rssi_dbm is not None else '-'}"
            )
    finally:
        await client.stop()
        await task
        close = getattr(transport, "close", None)  # a simulated belt: power it off
        if close is not None:
            await close()
    s = client.stats
    print(
        f"{transport.uri}: {s.samples_logged} samples logged, {s.samples_lost} lost "
        f"({s.loss_percent:.2f} %), {s.reconnects} reconnects, {s.resend_requests} resends, "
        f"mean recovery {s.mean_recovery_s:.2f} s, {s.frames_bad} bad frames"
    )
    if s.connects == 0:
        print(f"never connected: {s.last_error}")
        return 1
    if s.key_refused:
        print(s.last_error)
    return 0


def _cmd_link_test(args: argparse.Namespace) -> int:
    from levelbelt.transports.transport import parse_uri

    parse_uri(args.uri)  # a bad URI is a one-line error before anything starts
    return asyncio.run(_link_test(args.uri, args.seconds))


def add_link_parsers(sub: Any) -> None:
    """Register `levelbelt scan` and `levelbelt link-test` on the CLI's subparsers."""
    s = sub.add_parser("scan", help="list LevelBelt belts in Bluetooth range")
    s.add_argument("--seconds", type=float, default=SCAN_S,
                   help="how long to listen (default %(default)s)")
    s.set_defaults(func=_cmd_scan)
    t = sub.add_parser("link-test", help="stream from a belt and report loss and reconnects")
    t.add_argument("uri", metavar="URI",
                   help="ble:NAME-OR-ADDRESS, serial:PORT, or sim: / sim+ble: "
                   "(a simulated belt on USB / over the BLE rig)")
    t.add_argument("--seconds", type=float, default=60.0,
                   help="how long to run (default %(default)s)")
    t.set_defaults(func=_cmd_link_test)
