"""A fresh, empty directory for tests that write files, on CPython and MicroPython."""

import os
import sys

MICROPYTHON = sys.implementation.name == "micropython"
_made = [0]


def fresh_dir(name):
    """Path of a new empty directory (no trailing slash)."""
    if not MICROPYTHON:
        import tempfile

        return tempfile.mkdtemp(prefix="levelbelt-" + name + "-")
    _made[0] += 1
    path = "/tmp/levelbelt-%s-%d" % (name, _made[0])
    try:
        for entry in os.listdir(path):
            os.remove(path + "/" + entry)
    except OSError:
        os.mkdir(path)
    return path


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False
