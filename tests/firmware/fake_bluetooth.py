"""A stand-in for MicroPython's `bluetooth` module as the ESP32 (NimBLE) port behaves,
plus a scripted central on the other end of the link. Runs on CPython and MicroPython.

    ble = fake_bluetooth.BLE(clock)        the peripheral side: the API belt/ble.py uses
    conn = ble.central_connect(mtu=247)    a central connects (only while advertising)
    ble.central_write(handle, data)        a write with response to a characteristic
    ble.central_exchange_mtu(mtu)          the central starts the ATT MTU exchange
    ble.central_disconnect()               the link drops
    ble.central_pair()                     the central pairs and bonds (Just Works)
    ble.central_resume()                   a bonded central encrypts with its stored keys
    ble.received(handle)                   notifications delivered so far, in order

What is modelled, from docs.micropython.org (bluetooth, v1.27) and the NimBLE port:
- `active()` must be True before anything else (OSError EPERM otherwise).
- `config`: 'mac' -> (addr_type, addr), gap_name, mtu (23..517), rxbuf; bond / le_secure
  / mitm / io as on the ESP32 build, which has pairing and bonding (the port enables
  MICROPY_PY_BLUETOOTH_ENABLE_PAIRING_BONDING since its BLE events became synchronous,
  micropython#7046); with pairing=False they raise ValueError("unknown config param") as
  on a build without it.
- Pairing and bonding as NimBLE does them through the application's bond store
  (micropython#13258 made the ESP32 use it, so bonds persist): while `active(True)`
  starts the stack it asks the store for its identity key (sec_type 10, key b"irk";
  when there is none it makes one and stores it, or falls back to NimBLE's fixed key if
  the store refuses) and reads every bonded central's keys (sec_type 2 by index, key
  None) to resolve their private addresses, all through the IRQ handler registered at
  that moment. After a bonding pairing the stack hands the peer's and our keys to
  _IRQ_SET_SECRET (sec_type 2 PEER_SEC and 1 OUR_SEC, keyed by the central's 7-byte
  identity address: type, then the address; the value starts with that address, as
  ble_store_value_sec does), then reports _IRQ_ENCRYPTION_UPDATE (conn, encrypted,
  authenticated, bonded, key_size). Centrals use private addresses, as phones do: one
  that reconnects is recognised only if its keys were read at start-up or it paired
  since, and its keys are then looked up with _IRQ_GET_SECRET (sec_type, index, key);
  only then is the link encrypted without a new pairing. Keys and values are
  memoryviews valid only during the call, as on the board.
- `gatts_register_services` returns one tuple of value handles per service, the real
  nested shape; handles count up as NimBLE numbers attributes (service declaration,
  characteristic declaration + value, a CCCD after each notify/indicate characteristic).
  Refused while advertising, as the docs require.
- `gap_advertise`: payloads over 31 bytes raise OSError(EINVAL); `None` stops; a
  connection ends advertising (a connectable advertisement stops when a central
  connects). A central can connect only while advertising.
- IRQs with the documented codes and tuples, called synchronously when the central acts:
  _IRQ_CENTRAL_CONNECT (conn, addr_type, addr), _IRQ_CENTRAL_DISCONNECT (same),
  _IRQ_GATTS_WRITE (conn, attr), _IRQ_MTU_EXCHANGED (conn, mtu), _IRQ_CONNECTION_UPDATE
  (conn, interval, latency, timeout, status). `addr` is a memoryview valid only during
  the call, as on the board.
- Characteristic values hold 20 bytes unless `gatts_set_buffer` says more; a longer write
  from the central is truncated. `gatts_read` returns bytes.
- `gatts_notify`: OSError(ENOTCONN) for a handle that is not connected; the controller
  has `buffers` packet buffers and sends `per_interval` packets per connection interval
  (`interval_ms`, counted on the clock); a notification with every buffer in use raises
  OSError(ENOMEM). A payload longer than MTU - 3 raises OSError(EINVAL) (the real stack
  would truncate it; here it is a bug to find). Packets still buffered when the link
  drops are lost.
- `gattc_exchange_mtu` from the peripheral: the central answers with its own MTU
  (`central_mtu`), and _IRQ_MTU_EXCHANGED reports the smaller of the two.

With `record=False` delivered notifications are only counted (no copies), so the
peripheral's own allocation can be measured with the heap locked.
"""

try:
    import errno

    ENOMEM = errno.ENOMEM
    EINVAL = errno.EINVAL
    EPERM = errno.EPERM
    ENOTCONN = errno.ENOTCONN
except (ImportError, AttributeError):  # pragma: no cover - both interpreters have these
    ENOMEM, EINVAL, EPERM, ENOTCONN = 12, 22, 1, 107

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30

SEC_OUR = 1  # NimBLE's BLE_STORE_OBJ_TYPE_OUR_SEC
SEC_PEER = 2  # BLE_STORE_OBJ_TYPE_PEER_SEC
SEC_OUR_IRK = 10  # MicroPython's own secret type for the stack's identity key
DEFAULT_IRK = bytes(range(0xEF, 0xFF))  # NimBLE's built-in fixed identity key (any 16 bytes)

DEFAULT_VALUE_LEN = 20
ADV_MAX = 31


class UUID:
    def __init__(self, value):
        if isinstance(value, UUID):
            self.text = value.text
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self.text = "%04x" % value
        elif isinstance(value, str):
            h = value.replace("-", "").lower()
            if len(h) != 32:
                raise ValueError("invalid UUID")
            int(h, 16)
            self.text = h
        else:
            raise TypeError("UUID needs an int or a str")

    def __eq__(self, other):
        return isinstance(other, UUID) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return "UUID(%s)" % self.text


class _Value:
    def __init__(self, uuid, flags):
        self.uuid = uuid
        self.flags = flags
        self.data = b""
        self.limit = DEFAULT_VALUE_LEN
        self.append = False


class BLE:
    def __init__(self, clock=None, mac=b"\xa4\xcf\x12\x34\xc1\x7e", pairing=True, buffers=8,
                 per_interval=4, interval_ms=30, central_mtu=247, record=True):
        self.clock = clock
        self.mac = bytes(mac)
        self.pairing = pairing
        self.buffers = buffers
        self.per_interval = per_interval
        self.interval_ms = interval_ms
        self.central_mtu = central_mtu
        self.record = record
        self._active = False
        self._handler = None
        self.gap_name = "MPY ESP32"
        self.mtu_pref = 23
        self.security = {}
        self.irk = b""  # the stack's identity key, set when it starts
        self.resolvable = set()  # identity addresses of centrals whose keys the stack holds
        self._irks_made = 0
        self.values = {}  # value handle -> _Value
        self.services = []  # [(uuid, [(uuid, flags, value handle)])]
        self.advertising = False
        self.adv_data = b""
        self.resp_data = b""
        self.adv_interval_us = 0
        self.adv_count = 0  # gap_advertise calls that started advertising
        self.conn = -1  # the central's connection handle, -1 when none
        self.peer = b""  # the connected central's identity address: type byte + 6 bytes
        self._next_conn = 0
        self.mtu = 23
        self._mtu_done = False
        self.subscribed = set()
        self.queue = []  # (handle, bytes or None) waiting in the controller
        self.inflight = 0  # length of `queue` when not recording
        self._drained_at = 0
        self.delivered = {}  # handle -> [bytes]
        self.log = []  # (handle, bytes) of every delivered notification, in order
        self.delivered_count = 0
        self.lost_on_disconnect = 0
        self.enomem = 0
        self.disconnects_asked = []
        self._extra = []  # second connections handed up while one is open
        self.connectable = True

    # ------------------------------------------------------------------ helpers

    def _now(self):
        return self.clock.ticks_ms() if self.clock is not None else 0

    def _need_active(self):
        if not self._active:
            raise OSError(EPERM)

    def _irq(self, event, data):
        if self._handler is not None:
            return self._handler(event, data)
        return None

    def _drain(self):
        """Send the packets the controller got out since the last look at the clock."""
        now = self._now()
        if self.conn < 0:
            self._drained_at = now
            return
        intervals = (now - self._drained_at) // self.interval_ms
        if intervals <= 0:
            return
        self._drained_at += intervals * self.interval_ms
        n = intervals * self.per_interval
        if self.record:
            while n and self.queue:
                handle, data = self.queue.pop(0)
                self.delivered.setdefault(handle, []).append(data)
                self.log.append((handle, data))
                self.delivered_count += 1
                n -= 1
        else:
            k = n if n < self.inflight else self.inflight
            self.inflight -= k
            self.delivered_count += k

    def _pending(self):
        return len(self.queue) if self.record else self.inflight

    # ------------------------------------------------------------------ the `bluetooth.BLE` API

    def active(self, flag=None):
        if flag is not None:
            starting = bool(flag) and not self._active
            self._active = bool(flag)
            if not flag:
                self.advertising = False
                self.resolvable = set()
            if starting and self.pairing:
                self._sync()
        return self._active

    def _sync(self):
        """The stack starting: its identity key and the bonded centrals' keys from the
        store (only what the IRQ handler registered now answers)."""
        irk = self._irq(_IRQ_GET_SECRET, (SEC_OUR_IRK, 0, memoryview(b"irk")))
        if irk is not None and len(irk) == 16:
            self.irk = bytes(irk)
        else:
            self._irks_made += 1
            made = bytes((self._irks_made,)) * 16
            ok = self._irq(_IRQ_SET_SECRET, (SEC_OUR_IRK, memoryview(b"irk"), memoryview(made)))
            self.irk = made if ok else DEFAULT_IRK
        i = 0
        while True:
            value = self._irq(_IRQ_GET_SECRET, (SEC_PEER, i, None))
            if value is None:
                break
            self.resolvable.add(bytes(value[:7]))
            i += 1

    def config(self, *args, **kwargs):
        self._need_active()
        if args:
            if len(args) != 1 or kwargs:
                raise TypeError("config takes one name to read, or keywords to set")
            name = args[0]
            if name == "mac":
                return (0, self.mac)
            if name == "gap_name":
                return self.gap_name
            if name == "mtu":
                return self.mtu_pref
            raise ValueError("unknown config param")
        for name, value in kwargs.items():
            if name == "gap_name":
                self.gap_name = str(value)
            elif name == "mtu":
                if not 23 <= value <= 517:
                    raise ValueError("invalid MTU")
                self.mtu_pref = value
            elif name == "rxbuf":
                pass
            elif name in ("bond", "le_secure", "mitm", "io"):
                if not self.pairing:
                    raise ValueError("unknown config param")
                self.security[name] = value
            else:
                raise ValueError("unknown config param")
        return None

    def irq(self, handler):
        self._handler = handler

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self._need_active()
        if interval_us is None:
            self.advertising = False
            return
        if adv_data is not None:
            if len(adv_data) > ADV_MAX:
                raise OSError(EINVAL)
            self.adv_data = bytes(adv_data)
        if resp_data is not None:
            if len(resp_data) > ADV_MAX:
                raise OSError(EINVAL)
            self.resp_data = bytes(resp_data)
        self.adv_interval_us = interval_us
        self.advertising = True
        self.connectable = bool(connectable)
        self.adv_count += 1

    def gap_disconnect(self, conn_handle):
        self._need_active()
        self.disconnects_asked.append(conn_handle)
        if conn_handle == self.conn:
            self._drop_link()
            return True
        # A handle this stand-in refused at connect time (see central_connect_second).
        if conn_handle in self._extra:
            self._extra.remove(conn_handle)
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn_handle, 0, memoryview(b"\x00" * 6)))
            return True
        return False

    def gatts_register_services(self, services):
        self._need_active()
        if self.advertising:
            raise OSError(EINVAL)  # "Advertising must be stopped before registering"
        self.values = {}
        self.services = []
        handle = 0
        out = []
        for svc in services:
            suuid, chars = svc[0], svc[1]
            handle += 1  # service declaration
            handles = []
            entries = []
            for ch in chars:
                cuuid, flags = ch[0], ch[1]
                handle += 2  # characteristic declaration, then its value
                self.values[handle] = _Value(cuuid, flags)
                handles.append(handle)
                entries.append((cuuid, flags, handle))
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    handle += 1  # CCCD added by the stack
                if len(ch) > 2:
                    for d in ch[2]:
                        handle += 1
                        self.values[handle] = _Value(d[0], d[1])
                        handles.append(handle)
            out.append(tuple(handles))
            self.services.append((suuid, entries))
        return tuple(out)

    def _value(self, handle):
        v = self.values.get(handle)
        if v is None:
            raise OSError(EINVAL)
        return v

    def gatts_read(self, value_handle):
        self._need_active()
        v = self._value(value_handle)
        data = v.data
        if v.append:
            v.data = b""
        return bytes(data)

    def gatts_write(self, value_handle, data, send_update=False):
        self._need_active()
        v = self._value(value_handle)
        v.data = bytes(data)
        if len(v.data) > v.limit:
            v.limit = len(v.data)  # a local write grows the value, as documented
        if send_update and self.conn >= 0 and value_handle in self.subscribed:
            self.gatts_notify(self.conn, value_handle, data)

    def gatts_set_buffer(self, value_handle, length, append=False):
        v = self._value(value_handle)
        v.limit = length
        v.append = bool(append)

    def gatts_notify(self, conn_handle, value_handle, data=None):
        self._need_active()
        if conn_handle != self.conn or self.conn < 0:
            raise OSError(ENOTCONN)
        v = self._value(value_handle)
        if not v.flags & FLAG_NOTIFY:
            raise OSError(EINVAL)
        payload = v.data if data is None else data
        if len(payload) > self.mtu - 3:
            raise OSError(EINVAL)
        self._drain()
        if self._pending() >= self.buffers:
            self.enomem += 1
            raise OSError(ENOMEM)
        if self.record:
            self.queue.append((value_handle, bytes(payload)))
        else:
            self.inflight += 1

    def gattc_exchange_mtu(self, conn_handle):
        self._need_active()
        if conn_handle != self.conn:
            raise OSError(ENOTCONN)
        if self._mtu_done:
            raise OSError(EINVAL)  # NimBLE: BLE_HS_EALREADY
        self._exchange(self.central_mtu)

    # ------------------------------------------------------------------ the central (test side)

    def _exchange(self, central_mtu):
        self._mtu_done = True
        self.mtu = min(self.mtu_pref, central_mtu)
        self._irq(_IRQ_MTU_EXCHANGED, (self.conn, self.mtu))

    def central_connect(self, addr=b"\xc0\xff\xee\x00\x00\x01"):
        """A central connects; returns the connection handle."""
        if not self.advertising or not self.connectable:
            raise OSError(ENOTCONN)  # nothing to connect to
        self.advertising = False
        self._next_conn += 1
        self.conn = self._next_conn
        self.mtu = 23
        self._mtu_done = False
        self.subscribed = set()
        self.queue = []
        self.inflight = 0
        self._drained_at = self._now()
        self.peer = b"\x00" + bytes(addr)
        self._irq(_IRQ_CENTRAL_CONNECT, (self.conn, 0, memoryview(bytes(addr))))
        return self.conn

    def central_connect_second(self, addr=b"\xc0\xff\xee\x00\x00\x02"):
        """A second central gets a connection while one is up (a stack that allows more
        than one link); the peripheral must drop it."""
        self._next_conn += 1
        h = self._next_conn
        self._extra = self._extra + [h]
        self._irq(_IRQ_CENTRAL_CONNECT, (h, 0, memoryview(bytes(addr))))
        return h

    def central_subscribe(self, value_handle):
        self.subscribed.add(value_handle)

    def central_write(self, value_handle, data):
        if self.conn < 0:
            raise OSError(ENOTCONN)
        v = self._value(value_handle)
        if not v.flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
            raise OSError(EPERM)
        data = bytes(data)[: v.limit]
        v.data = (v.data + data)[: v.limit] if v.append else data
        self._irq(_IRQ_GATTS_WRITE, (self.conn, value_handle))

    def central_read(self, value_handle):
        return bytes(self._value(value_handle).data)

    def central_exchange_mtu(self, mtu):
        if self._mtu_done:
            raise OSError(EINVAL)
        self._exchange(mtu)

    def central_connection_update(self, interval_units):
        self.interval_ms = interval_units * 5 // 4
        self._irq(_IRQ_CONNECTION_UPDATE, (self.conn, interval_units, 0, 500, 0))

    def link_keys(self, sec_type):
        """What NimBLE stores for this link: a ble_store_value_sec-sized record (peer
        address first, then key size, EDIV, Rand, LTK, IRK, CSRK, flags), distinct per
        key type."""
        return self.peer + bytes((sec_type,)) + bytes(range(64 - 1 - len(self.peer)))

    def central_pair(self):
        """The central pairs (LE Secure Connections, Just Works). Only a stack built with
        pairing does; with `bond` configured it stores the keys (_IRQ_SET_SECRET, peer's
        first) and the link is bonded. True when the store accepted every key."""
        if not self.pairing or self.conn < 0:
            raise OSError(EPERM)
        ok = True
        bonding = bool(self.security.get("bond"))
        if bonding:
            for sec_type in (SEC_PEER, SEC_OUR):
                r = self._irq(_IRQ_SET_SECRET, (sec_type, memoryview(self.peer),
                                                memoryview(self.link_keys(sec_type))))
                ok = ok and bool(r)
            self.resolvable.add(self.peer)  # its identity key came with the pairing
        self._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1 if bonding and ok else 0, 16))
        return ok

    def central_resume(self):
        """A central bonded earlier starts encryption with its stored keys. The stack
        must recognise its private address (keys read at start-up or a pairing since),
        then finds the keys with _IRQ_GET_SECRET. True when the link is encrypted and
        bonded again; False when the belt did not know it (a phone then reports that
        the peer removed the pairing information, and must pair anew)."""
        if not self.pairing or self.conn < 0:
            raise OSError(EPERM)
        if self.peer not in self.resolvable:
            return False
        for sec_type in (SEC_PEER, SEC_OUR):
            got = self._irq(_IRQ_GET_SECRET, (sec_type, 0, memoryview(self.peer)))
            if got is None or bytes(got) != self.link_keys(sec_type):
                return False
        self._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1, 16))
        return True

    def stack_secret(self, sec_type, index, key):
        """What the stack gets back when it asks for a stored secret (_IRQ_GET_SECRET)."""
        return self._irq(_IRQ_GET_SECRET, (sec_type, index,
                                           None if key is None else memoryview(key)))

    def central_disconnect(self):
        if self.conn < 0:
            return
        self._drop_link()

    def _drop_link(self):
        self._drain()
        self.lost_on_disconnect += self._pending()
        conn = self.conn
        self.conn = -1
        self.queue = []
        self.inflight = 0
        self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, memoryview(b"\x00" * 6)))

    def flush(self):
        """Deliver what the controller still holds (as a long enough wait would)."""
        if self.conn < 0:
            return
        self._drained_at -= self.interval_ms * (self._pending() // self.per_interval + 1)
        self._drain()

    def received(self, value_handle):
        return self.delivered.get(value_handle, [])

    def handle_of(self, uuid):
        """Value handle of the characteristic with this UUID (int or str)."""
        want = UUID(uuid)
        for _, entries in self.services:
            for cuuid, _, h in entries:
                if cuuid == want:
                    return h
        raise KeyError(uuid)


def install():
    """Put this module in sys.modules as `bluetooth` (for code that imports it)."""
    import sys

    sys.modules["bluetooth"] = sys.modules[__name__]
