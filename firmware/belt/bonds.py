"""BLE bonding secrets (for `_IRQ_GET_SECRET` / `_IRQ_SET_SECRET`), kept in a small file.

The ESP32 build of MicroPython pairs and bonds: the port enables
MICROPY_PY_BLUETOOTH_ENABLE_PAIRING_BONDING since its BLE events became synchronous
(micropython#7046), and since v1.23 NimBLE there keeps its keys in the application's
store through these two IRQs (micropython#13258), so bonds survive a reset only if the
application stores them: this module. STM32 and Unix builds do the same. The stack
calls in from its IRQ, so `get`/`put` only touch memory; `save()` runs from the main
loop and writes `/ble.bonds` atomically when something changed. A build without pairing
never calls in; commands are authenticated with the belt key either way (auth.py).

What the stack stores: its own identity key (sec_type 10, key b"irk", made once) and,
per bonded central, its keys and ours (sec_types 2 and 1, keyed by the central's
identity address). At most MAX_ENTRIES are kept; when full, the central stored longest
ago goes, all its keys at once, never the identity key.

File: records of `sec_type u8, key_len u8, value_len u8, key, value`. Like the settings,
nothing is written in the first START_HOLD calls of `save()` (about 10 s of loop passes
after power-up, for a supply still coming up), and a write that fails (flash full) is
tried again SAVE_RETRY calls later, not on every pass.
"""

from belt.auth import write_atomic

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

BONDS_PATH = "/ble.bonds"
MAX_ENTRIES = const(16)  # the identity key, then two per bonded central: seven of them
SEC_OUR_IRK = const(10)  # MicroPython's secret type for the stack's own identity key
START_HOLD = const(2000)  # save() calls (loop passes of >= 5 ms) before the first write
SAVE_RETRY = const(200)  # save() calls between attempts after a failed write


class BondStore:
    def __init__(self, path=BONDS_PATH, hold=START_HOLD):
        self.path = path
        self.entries = []  # [sec_type, key bytes, value bytes], oldest first
        self.dirty = False
        self._wait = hold
        self._load()

    def _load(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except OSError:
            return
        i = 0
        while i + 3 <= len(data):
            st = data[i]
            kl = data[i + 1]
            vl = data[i + 2]
            j = i + 3
            if j + kl + vl > len(data):
                break  # a damaged tail: keep what was whole
            self.entries.append([st, bytes(data[j:j + kl]), bytes(data[j + kl:j + kl + vl])])
            i = j + kl + vl

    def get(self, sec_type, index, key):
        """The value for (sec_type, key), or the index'th value of sec_type when key is None."""
        if key is not None:
            key = bytes(key)
        k = 0
        for e in self.entries:
            if e[0] != sec_type:
                continue
            if key is None:
                if k == index:
                    return e[2]
                k += 1
            elif e[1] == key:
                return e[2]
        return None

    def put(self, sec_type, key, value):
        """Store (or with value None, delete) a secret; True when done. The stack's key
        and value are copied (they are only valid during its IRQ); one too long for the
        file is refused and changes nothing."""
        key = bytes(key) if key is not None else b""
        if value is not None and (len(key) > 255 or len(value) > 255):
            return False
        for i in range(len(self.entries)):
            e = self.entries[i]
            if e[0] == sec_type and e[1] == key:
                self.entries.pop(i)
                break
        if value is not None:
            if len(self.entries) >= MAX_ENTRIES:
                self._drop_oldest_central()
            self.entries.append([sec_type, key, bytes(value)])
        self.dirty = True
        return True

    def _drop_oldest_central(self):
        """Make room: every key of the central stored longest ago (not the stack's own)."""
        old = None
        for e in self.entries:
            if e[0] != SEC_OUR_IRK:
                old = e[1]
                break
        if old is None:
            self.entries.pop(0)
            return
        self.entries = [e for e in self.entries if e[0] == SEC_OUR_IRK or e[1] != old]

    def save(self):
        """Write the file if anything changed; False when the write failed (kept dirty)
        or waits to be tried again."""
        if not self.dirty:
            return True
        if self._wait > 0:
            self._wait -= 1
            return False
        out = bytearray()
        for st, key, value in self.entries:
            out.append(st)
            out.append(len(key))
            out.append(len(value))
            out.extend(key)
            out.extend(value)
        try:
            write_atomic(self.path, out)
        except OSError:
            self._wait = SAVE_RETRY
            return False
        self.dirty = False
        return True
