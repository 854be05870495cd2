"""The air between the rig's Bumble controllers: connection events, range, scan responses.

Bumble's in-process `LocalLink` hands every packet across at once. Three things a real
radio does matter to the belt and are added here, each at the layer where it lives:

* **Connection events.** A controller only transmits data at connection events, one
  every connection interval, a few packets per event. `RigController` queues the ACL
  packets its host gives it and releases at most `packets_per_event` per interval,
  reporting them completed only then. The host's buffers therefore fill at the real
  rate, which is what makes `gatts_notify` run out of buffers (ENOMEM) on the belt.
* **Range.** `RigLink.set_in_range(controller, False)` takes a device out of range: no
  advertising, no data, no control PDUs reach or leave it. Connections survive a gap
  shorter than their supervision timeout (queued packets flow again afterwards) and
  are dropped on both sides with reason 0x08 (connection timeout) when it is longer.
  `RigLink.drop(controller)` ends its links at once the same way (a forced loss).
  A device that resets forgets its links without a word: the other end keeps its side
  until the supervision timeout, as over the air.
* **Active scanning.** A scanner in active mode gets the advertiser's scan response
  (Bumble's stock controller repeats the advertising data instead), and each report
  carries the RSSI the link assigns to that advertiser.

Advertising is legacy only, as on the ESP32's Bluetooth 4.2 controller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import deque
from dataclasses import dataclass

from bumble import controller as bumble_controller
from bumble import hci, link, ll
from bumble.core import PhysicalTransport

DEFAULT_RSSI_DBM = -60
ADV_UNIT_S = 0.000625  # HCI advertising interval unit
CONN_INTERVAL_UNIT_S = 0.00125  # HCI connection interval unit
SUPERVISION_UNIT_S = 0.01  # HCI supervision timeout unit


@dataclass(frozen=True)
class RadioTiming:
    """What one controller can move per connection event, and how it buffers.

    `acl_payload` 251 models LE Data Length Extension (ESP32 and current PC/phone
    adapters support it); 27 is a pre-4.2 link. `acl_buffers` is the controller's
    ACL buffer count reported to its host (how many packets may wait in it).
    """

    packets_per_event: int = 4
    acl_payload: int = 251
    acl_buffers: int = 8


class RigLink(link.LocalLink):
    """A LocalLink where devices can leave and re-enter range and have an RSSI."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._out_of_range: set[int] = set()  # id() of controllers out of range
        self.rssi_dbm: dict[int, int] = {}  # by id() of the advertising controller

    def in_range(self, c: bumble_controller.Controller | None) -> bool:
        return c is not None and id(c) not in self._out_of_range

    def drop(self, c: bumble_controller.Controller) -> None:
        """End every link of `c` now on both ends (reason 0x08, connection timeout)."""
        for other in list(self.controllers):
            if isinstance(other, RigController):
                other.drop_links_with(c)

    def reachable(
        self, a: bumble_controller.Controller | None, b: bumble_controller.Controller | None
    ) -> bool:
        return self.in_range(a) and self.in_range(b)

    def rssi_of(self, c: bumble_controller.Controller | None) -> int:
        return DEFAULT_RSSI_DBM if c is None else self.rssi_dbm.get(id(c), DEFAULT_RSSI_DBM)

    def set_in_range(self, c: bumble_controller.Controller, in_range: bool) -> None:
        """Move one controller out of (or back into) range of every other."""
        if in_range:
            self._out_of_range.discard(id(c))
        else:
            self._out_of_range.add(id(c))
        for other in list(self.controllers):
            if isinstance(other, RigController):
                other.on_range_change()

    # LocalLink delivery, filtered by range -------------------------------------------

    def send_acl_data(
        self,
        sender_controller: bumble_controller.Controller,
        destination_address: hci.Address,
        transport: PhysicalTransport,
        data: bytes,
    ) -> None:
        if transport != PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        destination = self.find_le_controller(destination_address)
        connection = sender_controller.le_connections.get(destination_address)
        if destination is None or connection is None:
            return
        if not self.reachable(sender_controller, destination):
            return
        # The receiver knows the sender by the address this connection was made with
        # (the belt's public one), not necessarily the sender's random address.
        source = connection.self_address
        asyncio.get_running_loop().call_soon(
            destination.on_link_acl_data, source, transport, data
        )

    def send_advertising_pdu(
        self, sender_controller: bumble_controller.Controller, packet: ll.AdvertisingPdu
    ) -> None:
        if not self.in_range(sender_controller):
            return
        loop = asyncio.get_running_loop()
        for c in self.controllers:
            if c is not sender_controller and self.in_range(c):
                loop.call_soon(c.on_ll_advertising_pdu, packet)

    def send_ll_control_pdu(
        self, sender_address: hci.Address, receiver_address: hci.Address, packet: ll.ControlPdu
    ) -> None:
        sender = self.find_le_controller(sender_address)
        receiver = self.find_le_controller(receiver_address)
        if self.reachable(sender, receiver):
            super().send_ll_control_pdu(sender_address, receiver_address, packet)


@dataclass
class _LinkState:
    """One LE connection as its controller schedules it."""

    handle: int
    peer: hci.Address
    interval_s: float
    supervision_s: float
    anchor_s: float
    tx: deque[hci.HCI_AclDataPacket] = dataclasses.field(default_factory=deque)
    event: asyncio.TimerHandle | None = None
    lost_at_s: float | None = None
    orphaned: bool = False  # the other end forgot the link (reset) without telling us
    last_event: int = 0  # number of the last connection event that ran
    sent_packets: int = 0


class _Advertiser(bumble_controller.LegacyAdvertiser):
    """Legacy advertiser whose interval is read in HCI units (0.625 ms), as specified."""

    def _on_timer_fired(self) -> None:
        self.send_advertising_data()
        interval_s = max(self.advertising_interval_min, 0x20) * ADV_UNIT_S
        self.timer_handle = asyncio.get_running_loop().call_later(
            interval_s, self._on_timer_fired
        )


class RigController(bumble_controller.Controller):
    """A Bumble controller that transmits at connection events and honours range."""

    link: RigLink

    def __init__(self, name: str, rig_link: RigLink, address: str, timing: RadioTiming) -> None:
        super().__init__(name, link=rig_link, public_address=address)
        self.timing = timing
        self.le_acl_data_packet_length = timing.acl_payload
        self.total_num_le_acl_data_packets = timing.acl_buffers
        self.supported_max_tx_octets = timing.acl_payload
        self.supported_max_rx_octets = timing.acl_payload
        self.le_features = self.le_features & ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
        self.le_legacy_advertiser = _Advertiser(self)
        self._links: dict[int, _LinkState] = {}
        self._connect_ind: ll.ConnectInd | None = None

    # Connection bookkeeping ------------------------------------------------------------

    def link_state(self, handle: int) -> _LinkState | None:
        return self._links.get(handle)

    def on_le_connect_ind(self, packet: ll.ConnectInd) -> None:
        # The stock controller reports placeholder parameters to a peripheral's host;
        # keep the central's real ones so send_hci_packet can report those instead.
        self._connect_ind = packet
        try:
            super().on_le_connect_ind(packet)
        finally:
            self._connect_ind = None

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if isinstance(packet, hci.HCI_LE_Connection_Complete_Event):
            if packet.status == hci.HCI_ErrorCode.SUCCESS:
                if self._connect_ind is not None and packet.role == hci.Role.PERIPHERAL:
                    ind = self._connect_ind
                    packet = dataclasses.replace(
                        packet,
                        connection_interval=ind.interval,
                        peripheral_latency=ind.latency,
                        supervision_timeout=ind.timeout,
                    )
                self._open_link(
                    packet.connection_handle,
                    packet.peer_address,
                    packet.connection_interval,
                    packet.supervision_timeout,
                )
        elif isinstance(packet, hci.HCI_LE_Connection_Update_Complete_Event):
            state = self._links.get(packet.connection_handle)
            if state is not None and packet.status == hci.HCI_ErrorCode.SUCCESS:
                state.interval_s = packet.connection_interval * CONN_INTERVAL_UNIT_S
                state.supervision_s = packet.supervision_timeout * SUPERVISION_UNIT_S
        super().send_hci_packet(packet)

    def _open_link(self, handle: int, peer: hci.Address, interval: int, timeout: int) -> None:
        now = asyncio.get_running_loop().time()
        self._links[handle] = _LinkState(
            handle=handle,
            peer=peer,
            interval_s=max(interval, 6) * CONN_INTERVAL_UNIT_S,
            supervision_s=max(timeout, 10) * SUPERVISION_UNIT_S,
            anchor_s=now,
        )

    def on_le_disconnected(self, connection: bumble_controller.Connection, reason: int) -> None:
        state = self._links.pop(connection.handle, None)
        if state is not None and state.event is not None:
            state.event.cancel()
        super().on_le_disconnected(connection, reason)
        peer = self.link.find_le_controller(connection.peer_address)
        if isinstance(peer, RigController):
            peer.on_peer_forgot(self)

    def on_peer_forgot(self, other: bumble_controller.Controller) -> None:
        """`other` dropped its side of our links. If it could tell us (LL_TERMINATE_IND)
        ours ends in a moment anyway; if not (it reset, or was out of range), nobody
        answers at our connection events any more and the link times out like a silent
        one: after the supervision timeout, reason 0x08."""
        loop = asyncio.get_running_loop()
        for state in self._links.values():
            if self.link.find_le_controller(state.peer) is other and not state.orphaned:
                state.orphaned = True
                if state.lost_at_s is None:
                    state.lost_at_s = loop.time()
                    loop.call_later(
                        state.supervision_s, self._supervision_check, state, state.lost_at_s
                    )

    # Data path: transmit at connection events ------------------------------------------

    def on_hci_acl_data_packet(self, packet: hci.HCI_AclDataPacket) -> None:
        state = self._links.get(packet.connection_handle)
        if state is None:
            super().on_hci_acl_data_packet(packet)
            return
        state.tx.append(packet)
        self._schedule(state)

    def _schedule(self, state: _LinkState) -> None:
        if state.event is not None or not state.tx or state.orphaned:
            return
        if not self.link.reachable(self, self.link.find_le_controller(state.peer)):
            return  # resumed by on_range_change
        loop = asyncio.get_running_loop()
        # Events fall on anchor + k * interval; the next one not yet run and not past.
        due = math.ceil((loop.time() - state.anchor_s) / state.interval_s - 1e-9)
        number = max(state.last_event + 1, due)
        at = state.anchor_s + number * state.interval_s
        state.event = loop.call_at(at, self._connection_event, state.handle, number)

    def _connection_event(self, handle: int, number: int) -> None:
        state = self._links.get(handle)
        if state is None:
            return
        state.event = None
        state.last_event = number
        connection = self.find_le_connection_by_handle(handle)
        if connection is None:
            return
        if state.orphaned or not self.link.reachable(
            self, self.link.find_le_controller(state.peer)
        ):
            return
        for _ in range(self.timing.packets_per_event):
            if not state.tx:
                break
            # Delivers the PDU across the link and reports the packet completed.
            connection.on_hci_acl_data_packet(state.tx.popleft())
            state.sent_packets += 1
        self._schedule(state)

    # Scanning -------------------------------------------------------------------------

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        if isinstance(pdu, ll.AdvExtInd):
            super().on_advertising_pdu(pdu)
            return
        if self.le_scan_enable:
            advertiser = self.link.find_le_controller(pdu.advertiser_address)
            rssi = self.link.rssi_of(advertiser)
            kind = hci.HCI_LE_Advertising_Report_Event.EventType
            self._report(kind.ADV_IND, pdu.advertiser_address, pdu.data, rssi)
            active = hci.HCI_LE_Set_Scan_Parameters_Command.ACTIVE_SCANNING
            if self.le_scan_type == active and advertiser is not None:
                # SCAN_REQ answered by the advertiser's own scan response data.
                response = advertiser.le_legacy_advertiser.scan_response_data
                self._report(kind.SCAN_RSP, pdu.advertiser_address, response, rssi)
        pending = self.pending_le_connection
        if pending is not None and pending.peer_address == pdu.advertiser_address:
            self.create_le_connection(pdu.advertiser_address)

    def _report(self, event_type: int, address: hci.Address, data: bytes, rssi: int) -> None:
        report = hci.HCI_LE_Advertising_Report_Event.Report(
            event_type=event_type,
            address_type=address.address_type,
            address=address,
            data=data,
            rssi=rssi,
        )
        self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([report]))

    # Range ----------------------------------------------------------------------------

    def on_range_change(self) -> None:
        """Start supervision timers for links that just broke; resume ones that healed."""
        loop = asyncio.get_running_loop()
        for state in list(self._links.values()):
            if state.orphaned:
                continue  # nothing will answer again: its supervision timer runs on
            if self.link.reachable(self, self.link.find_le_controller(state.peer)):
                state.lost_at_s = None
                self._schedule(state)
            elif state.lost_at_s is None:
                state.lost_at_s = loop.time()
                loop.call_later(
                    state.supervision_s, self._supervision_check, state, state.lost_at_s
                )

    def drop_links_with(self, other: bumble_controller.Controller) -> None:
        """Every link between this controller and `other` ends now, as after a
        supervision timeout (reason 0x08); both ends call this for their side."""
        for state in list(self._links.values()):
            peer = self.link.find_le_controller(state.peer)
            connection = self.find_le_connection_by_handle(state.handle)
            if connection is not None and (peer is other or other is self):
                self.on_le_disconnected(connection, hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)

    def forget_links(self) -> None:
        """A controller reset: every link ends here, and nothing goes over the air."""
        for state in list(self._links.values()):
            connection = self.find_le_connection_by_handle(state.handle)
            if connection is not None:
                self.on_le_disconnected(connection, hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)

    def _supervision_check(self, state: _LinkState, lost_at_s: float) -> None:
        if self._links.get(state.handle) is not state or state.lost_at_s != lost_at_s:
            return  # healed in time (or broke again later: that break has its own timer)
        connection = self.find_le_connection_by_handle(state.handle)
        if connection is not None:
            self.on_le_disconnected(connection, hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)
