"""A small peripheral written against MicroPython's `bluetooth` API, for the rig's tests.

It is written the way firmware is (IRQ handler, value handles, a service loop that
retries after ENOMEM), takes the `bluetooth` module as a parameter, and never imports
it, so the rig runs it exactly as it runs the belt's own BLE code.
"""

import errno

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_READ_REQUEST = 4
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28

SERVICE_UUID = "9f3c0001-5a1e-4c2b-9d7e-0b6f1a2c3d4e"
NOTIFY_UUID = "9f3c0002-5a1e-4c2b-9d7e-0b6f1a2c3d4e"
WRITE_UUID = "9f3c0003-5a1e-4c2b-9d7e-0b6f1a2c3d4e"
STATUS_UUID = "9f3c0004-5a1e-4c2b-9d7e-0b6f1a2c3d4e"
ADV_INTERVAL_US = 100_000
WRITE_BUFFER = 200
READ_DENIED = 0x08  # insufficient authorization


def advertising_payload(name):
    """Flags + complete local name (the 128-bit UUID goes in the scan response)."""
    encoded = name.encode()
    return bytes((2, 0x01, 0x06, len(encoded) + 1, 0x09)) + encoded


def scan_response_payload(uuid):
    return bytes((17, 0x07)) + bytes(uuid)


class Peripheral:
    def __init__(self, bluetooth, name="RigTest", mtu=247, exchange_mtu=False):
        self.bluetooth = bluetooth
        self.ble = ble = bluetooth.BLE()
        self.name = name
        self.exchange_mtu = exchange_mtu
        ble.active(True)
        ble.config(gap_name=name, mtu=mtu)
        ble.irq(self._irq)
        service = (
            bluetooth.UUID(SERVICE_UUID),
            (
                (bluetooth.UUID(NOTIFY_UUID), bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),
                (
                    bluetooth.UUID(WRITE_UUID),
                    bluetooth.FLAG_WRITE | bluetooth.FLAG_WRITE_NO_RESPONSE,
                ),
                (bluetooth.UUID(STATUS_UUID), bluetooth.FLAG_READ),
            ),
        )
        ((self.notify_handle, self.write_handle, self.status_handle),) = (
            ble.gatts_register_services((service,))
        )
        ble.gatts_set_buffer(self.write_handle, WRITE_BUFFER)
        ble.gatts_write(self.status_handle, b"ok")
        self.connections = {}  # conn_handle -> negotiated MTU
        self.events = []  # (event code, conn_handle) in arrival order
        self.writes = []  # bytes written by the central, in order
        self.deny_reads = False
        self.encrypted = False
        self.outbox = []  # payloads waiting to be notified, oldest first
        self.sent = 0
        self.enomem = 0
        self.advertise()

    def advertise(self):
        self.ble.gap_advertise(
            ADV_INTERVAL_US,
            advertising_payload(self.name),
            resp_data=scan_response_payload(self.bluetooth.UUID(SERVICE_UUID)),
        )

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            conn_handle, _, _ = data
            self.connections[conn_handle] = 23
            self.events.append((event, conn_handle))
            if self.exchange_mtu:
                self.ble.gattc_exchange_mtu(conn_handle)
        elif event == _IRQ_CENTRAL_DISCONNECT:
            conn_handle, _, _ = data
            self.connections.pop(conn_handle, None)
            self.events.append((event, conn_handle))
            self.advertise()
        elif event == _IRQ_GATTS_WRITE:
            conn_handle, attr_handle = data
            if attr_handle == self.write_handle:
                self.writes.append(bytes(self.ble.gatts_read(attr_handle)))
            self.events.append((event, conn_handle))
        elif event == _IRQ_GATTS_READ_REQUEST:
            if self.deny_reads:
                return READ_DENIED
            return 0
        elif event == _IRQ_ENCRYPTION_UPDATE:
            conn_handle, encrypted, _, _, _ = data
            self.encrypted = bool(encrypted)
            self.events.append((event, conn_handle))
        elif event == _IRQ_MTU_EXCHANGED:
            conn_handle, mtu = data
            self.connections[conn_handle] = mtu
            self.events.append((event, conn_handle))
        return None

    def send(self, payload):
        self.outbox.append(bytes(payload))

    def service(self):
        """Notify queued payloads to every connection; on ENOMEM keep the rest for later."""
        while self.outbox and self.connections:
            payload = self.outbox[0]
            try:
                for conn_handle in self.connections:
                    self.ble.gatts_notify(conn_handle, self.notify_handle, payload)
            except OSError as e:
                if e.errno != errno.ENOMEM:
                    raise
                self.enomem += 1
                return
            self.outbox.pop(0)
            self.sent += 1
