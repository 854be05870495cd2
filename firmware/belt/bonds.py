"""BLE bonding secrets (for `_IRQ_GET_SECRET` / `_IRQ_SET_SECRET`), kept in a small file.

Only ports whose `bluetooth` module does pairing and bonding ask for these (NimBLE on
STM32 and Unix; the ESP32 build of MicroPython 1.27 does not). The stack calls in from
its IRQ, so `get`/`put` only touch memory; `save()` runs from the main loop and writes
`/ble.bonds` atomically when something changed.

File: records of `sec_type u8, key_len u8, value_len u8, key, value`. At most
MAX_ENTRIES are kept; the oldest goes first.
"""

from belt.auth import write_atomic

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

BONDS_PATH = "/ble.bonds"
MAX_ENTRIES = const(16)


class BondStore:
    def __init__(self, path=BONDS_PATH):
        self.path = path
        self.entries = []  # [sec_type, key bytes, value bytes], oldest first
        self.dirty = False
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
        k = 0
        for e in self.entries:
            if e[0] != sec_type:
                continue
            if key is None:
                if k == index:
                    return e[2]
                k += 1
            elif e[1] == bytes(key):
                return e[2]
        return None

    def put(self, sec_type, key, value):
        """Store (or with value None, delete) a secret; True when done."""
        key = bytes(key) if key is not None else b""
        for i in range(len(self.entries)):
            e = self.entries[i]
            if e[0] == sec_type and e[1] == key:
                self.entries.pop(i)
                break
        if value is not None:
            if len(key) > 255 or len(value) > 255:
                return False
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.pop(0)
            self.entries.append([sec_type, key, bytes(value)])
        self.dirty = True
        return True

    def save(self):
        """Write the file if anything changed; False when the write failed (kept dirty)."""
        if not self.dirty:
            return True
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
            return False
        self.dirty = False
        return True
