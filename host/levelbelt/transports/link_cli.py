"""`levelbelt scan`, `link-test` and `set-mount`: find belts, check a link, declare a mount.

    levelbelt scan [--seconds 5]             belts in Bluetooth range, strongest first
    levelbelt link-test URI [--seconds 60]   stream from a belt through BeltClient and
                                             print loss, reconnects and recovery
    levelbelt set-mount URI --mount=-x+y     tell a belt how its clip is worn (SET_MOUNT):
                                             it keeps the mount and wants a new neutral

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from levelbelt.belt_client import BeltClient

SCAN_S = 5.0
REPORT_EVERY_S = 5.0
ANSWER_S = 20.0  # set-mount: how long to wait for the belt's first frame


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
        await _shut_down(client, task, transport)
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


async def _shut_down(client: BeltClient, task: asyncio.Task[None], transport: Any) -> None:
    """Stop the client, wait for its task, and power a simulated belt off."""
    await client.stop()
    await task
    close = getattr(transport, "close", None)
    if close is not None:
        await close()


async def _set_mount(uri: str, mount: str, belt: str | None) -> int:
    from levelbelt import keys
    from levelbelt.belt_client import BeltClient, KeyMismatch
    from levelbelt.errors import LinkError
    from levelbelt.mount import mount_text, parse_mount
    from levelbelt.transports.transport import open_transport

    text = mount_text(*parse_mount(mount))  # a bad text fails before any link opens
    transport = open_transport(uri)
    key: bytes | None = getattr(transport, "key", None)  # a simulated belt's own key
    if key is None:
        key = keys.load_key(belt) if belt is not None else _key_for(uri)
    if key is None:
        raise KeyMismatch(
            f"{uri}: no command key for this belt on this host (give --belt NAME for a "
            "serial: link); put the belt on USB and run `levelbelt device provision`"
        )
    client = BeltClient(transport, key=key)
    task = asyncio.get_running_loop().create_task(client.run())
    try:
        try:
            async with asyncio.timeout(ANSWER_S):
                while client.stats.frames == 0:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            why = client.stats.last_error or "is it switched on and in range?"
            raise LinkError(f"no belt answered on {uri} within {ANSWER_S:g} s ({why})") from None
        await client.set_mount(text)
    finally:
        await _shut_down(client, task, transport)
    print(f"{transport.uri}: mount {text} kept; capture the neutral again (stand still) "
          "before the next drill")
    return 0


def _cmd_set_mount(args: argparse.Namespace) -> int:
    from levelbelt.mount import parse_mount
    from levelbelt.transports.transport import parse_uri

    parse_uri(args.uri)  # bad input is a one-line error before anything starts
    parse_mount(args.mount)
    return asyncio.run(_set_mount(args.uri, args.mount, args.belt))


def _cmd_link_test(args: argparse.Namespace) -> int:
    from levelbelt.transports.transport import parse_uri

    parse_uri(args.uri)  # a bad URI is a one-line error before anything starts
    return asyncio.run(_link_test(args.uri, args.seconds))


def add_link_parsers(sub: Any) -> None:
    """Register `levelbelt scan`, `link-test` and `set-mount` on the CLI's subparsers."""
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
    m = sub.add_parser("set-mount", help="tell a belt how its clip is worn (which sensor "
                       "axes point right and up); it keeps it and wants a new neutral")
    m.add_argument("uri", metavar="URI",
                   help="ble:NAME-OR-ADDRESS, serial:PORT, or sim: / sim+ble:")
    m.add_argument("--mount", required=True,
                   help="sensor axis pointing right, then up, as for `analyze`: +x+y is "
                   "the marked way; write one starting with '-' as --mount=-x+y")
    m.add_argument("--belt", default=None, metavar="NAME",
                   help="the belt's name, to find its command key (for serial: links; "
                   "ble:NAME uses NAME)")
    m.set_defaults(func=_cmd_set_mount)
