#!/usr/bin/env node
// The MicroPython 1.27 interpreter (WebAssembly) as a board on a serial line: bytes read
// from a file descriptor go through the interpreter's own REPL character processing
// (friendly REPL, paste mode, raw REPL), and everything it prints goes back out as it is
// printed. Give it the master side of a pty and `mpremote connect /dev/pts/N` talks to it
// as to a board on USB (tests/host/mpy_board.py does that).
//
//   node tests/mpy/repl_pty.mjs --fd N
//
// What a board does and this bridge does too:
// - Soft reset (Ctrl-D on an empty line, or sys.exit()): prints "MPY: soft reboot", starts
//   a fresh interpreter (new heap, no imported modules), keeps the filesystem, runs
//   /boot.py, then /main.py when in the friendly REPL, and stays in the REPL mode it was
//   in, as ports/esp32 does.
// - sys.stdin reads block on the line, like a board's USB read.
// - Filesystem errors carry MicroPython's errno numbers (see BOARD_ERRNO_FS).
// What it cannot do:
// - Raw-paste mode: this port's mp_hal_stdin_rx_chr() is the constant 0, so the
//   interpreter cannot read a pasted program itself. A raw-paste request is answered as
//   a port without raw-paste answers (see Board.process) and mpremote falls back.
// - Interrupting running code with Ctrl-C: the interpreter runs on this thread, so input
//   is read only when it returns to the REPL.
// - Hard reset, and the machine, network and bluetooth modules (the port has none).
// The bridge exits when the other side of the line goes away (EOF or EIO on read).

import fs from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const HEAP_BYTES = 2 * 1024 * 1024; // initial GC heap; the wasm port grows it on demand
const PYEXEC_FORCED_EXIT = 0x100; // shared/runtime/pyexec.h
const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;
const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const TAIL_CHARS = 64;

// The port's VfsPosix raises Emscripten's errno numbers (ENOENT is 44) while its own
// errno module, like every MicroPython port, says ENOENT is 2. A board's LittleFS raises
// MicroPython's numbers, and mpremote relies on them (its `cp` stats the target and
// expects ENOENT), so the root filesystem is remounted through a thin VFS that re-raises
// with the MicroPython numbers. Nothing else changes; the names are gone afterwards.
const BOARD_ERRNO_FS = String.raw`
def _bridge_fs():
    import errno, vfs
    # Emscripten (WASI) errno -> MicroPython/Linux errno; names the errno module lacks
    # use their Linux values.
    table = {63: errno.EPERM, 44: errno.ENOENT, 29: errno.EIO, 8: errno.EBADF,
             6: errno.EAGAIN, 48: errno.ENOMEM, 2: errno.EACCES, 20: errno.EEXIST,
             43: errno.ENODEV, 31: errno.EISDIR, 28: errno.EINVAL, 54: 20, 55: 39,
             51: 28, 69: 30, 37: 36}

    def call(f, *args):
        try:
            return f(*args)
        except OSError as e:
            n = table.get(e.errno)
            if n is None:
                raise
            raise OSError(n)

    class BoardFs:
        def __init__(self, inner):
            self.inner = inner
        def mount(self, readonly, mkfs):
            pass
        def umount(self):
            pass
        def ilistdir(self, path):
            return call(self.inner.ilistdir, path)
        def chdir(self, path):
            return call(self.inner.chdir, path)
        def getcwd(self):
            return call(self.inner.getcwd)
        def mkdir(self, path):
            return call(self.inner.mkdir, path)
        def remove(self, path):
            return call(self.inner.remove, path)
        def rename(self, old, new):
            return call(self.inner.rename, old, new)
        def rmdir(self, path):
            return call(self.inner.rmdir, path)
        def stat(self, path):
            return call(self.inner.stat, path)
        def statvfs(self, path):
            return call(self.inner.statvfs, path)
        def open(self, path, mode):
            return call(self.inner.open, path, mode)

    inner = [m for m in vfs.mount() if m[1] == "/"][0][0]
    vfs.umount("/")
    vfs.mount(BoardFs(inner), "/")

_bridge_fs()
del _bridge_fs
`;

function parseArgs(argv) {
  const i = argv.indexOf("--fd");
  if (i < 0 || i + 1 >= argv.length || !/^\d+$/.test(argv[i + 1])) {
    throw new Error("usage: repl_pty.mjs --fd N (N: an open, blocking file descriptor)");
  }
  return { fd: Number(argv[i + 1]) };
}

class Line {
  // One serial line over a file descriptor: blocking reads into a queue; output written
  // as soon as the interpreter prints it (so "OK" reaches the host before a long exec
  // ends, as on a board). `tail` keeps the last bytes out, for recognising replies.
  constructor(fd) {
    this.fd = fd;
    this.queue = [];
    this.readBuf = Buffer.alloc(4096);
    this.closed = false;
    this.sent = 0;
    this.tail = "";
  }

  emit(bytes) {
    let buf = Buffer.from(bytes);
    this.sent += buf.length;
    this.tail = (this.tail + buf.toString("latin1")).slice(-TAIL_CHARS);
    while (buf.length) {
      let n;
      try {
        n = fs.writeSync(this.fd, buf);
      } catch (err) {
        if (err.code === "EAGAIN") continue;
        if (err.code === "EIO") return; // the other side is gone; next() ends the bridge
        throw err;
      }
      buf = buf.subarray(n);
    }
  }

  // The last `n` bytes written (at most TAIL_CHARS).
  lastSent(n) {
    return this.tail.slice(-Math.min(n, TAIL_CHARS));
  }

  // Next input byte, blocking; null once the line is gone.
  next() {
    if (this.queue.length) return this.queue.shift();
    if (this.closed) return null;
    for (;;) {
      let n;
      try {
        n = fs.readSync(this.fd, this.readBuf, 0, this.readBuf.length, null);
      } catch (err) {
        if (err.code === "EAGAIN") continue;
        if (err.code === "EIO") n = 0; // pty: every slave descriptor closed
        else throw err;
      }
      if (n === 0) {
        this.closed = true;
        return null;
      }
      for (let i = 0; i < n; i++) this.queue.push(this.readBuf[i]);
      return this.queue.shift();
    }
  }
}

// The filesystem survives a soft reset (it is the board's flash); /dev and /proc belong to
// the Emscripten runtime and are recreated with it.
function snapshotFs(FS) {
  const files = [];
  const walk = (dir) => {
    for (const name of FS.readdir(dir)) {
      if (name === "." || name === "..") continue;
      const full = dir === "/" ? "/" + name : dir + "/" + name;
      if (full === "/dev" || full === "/proc") continue;
      const st = FS.stat(full);
      if (FS.isDir(st.mode)) {
        files.push({ path: full, dir: true });
        walk(full);
      } else if (FS.isFile(st.mode)) {
        files.push({ path: full, dir: false, data: FS.readFile(full) });
      }
    }
  };
  walk("/");
  return files;
}

function restoreFs(FS, files) {
  for (const f of files) {
    if (f.dir) FS.mkdirTree(f.path);
    else FS.writeFile(f.path, f.data);
  }
}

class Board {
  constructor(line) {
    this.line = line;
    this.mp = null;
    this.muted = false;
    // REPL mode, which a board keeps across a soft reset: raw once the interpreter answers
    // Ctrl-A with the raw REPL banner (it does not when a line is half typed), friendly
    // again on Ctrl-B.
    this.raw = false;
    this.rawLen = 0; // bytes typed on the current raw REPL line, and the first of them
    this.rawFirst = 0;
  }

  async boot(files) {
    const line = this.line;
    this.mp = await loadMicroPython({
      heapsize: HEAP_BYTES,
      linebuffer: false,
      stdout: (bytes) => {
        if (!this.muted) line.emit(bytes);
      },
      stderr: (bytes) => {
        if (!this.muted) line.emit(bytes);
      },
      // Reads by the interpreter itself (sys.stdin): block on the line.
      stdin: () => line.next(),
    });
    if (files) restoreFs(this.mp.FS, files);
    this.mp.FS.chdir("/");
    this.mp.runPython(BOARD_ERRNO_FS);
    this.runIfExists("/boot.py");
    if (!this.raw) this.runIfExists("/main.py");
    if (this.raw) {
      // A board that soft-resets in raw mode prints only the raw REPL banner.
      this.muted = true;
      this.mp.replInit();
      this.muted = false;
      this.process(CTRL_A);
    } else {
      this.mp.replInit();
    }
  }

  runIfExists(path) {
    try {
      this.mp.FS.stat(path);
    } catch {
      return;
    }
    // Errors print a traceback and the board carries on to the REPL, as pyexec_file does.
    const code = `import sys\ntry:\n exec(open(${JSON.stringify(path)}).read(), {'__name__': '__main__'})\nexcept BaseException as e:\n sys.print_exception(e)\n`;
    this.mp.runPython(code);
  }

  process(c) {
    if (this.raw) {
      if (c === CTRL_A && this.rawLen === 2 && this.rawFirst === CTRL_E) {
        // A raw-paste request ("\x05A" then Ctrl-A). The pasted program would have to be
        // read by the interpreter itself, and this port's mp_hal_stdin_rx_chr() is the
        // constant 0, so it would spin forever. Clear the line instead: Ctrl-A then resets
        // the raw REPL and prints its banner, which is how a port without raw-paste answers
        // and how mpremote knows to fall back to the plain raw REPL.
        this.mp.replProcessChar(CTRL_C);
      }
      if (c >= CTRL_A && c <= CTRL_D) this.rawLen = 0;
      else if (this.rawLen++ === 0) this.rawFirst = c;
    }
    const mark = this.line.sent;
    const ret = this.mp.replProcessChar(c);
    if (this.raw && c === CTRL_B) this.raw = false;
    else if (!this.raw && c === CTRL_A) {
      if (this.line.lastSent(this.line.sent - mark).includes(RAW_BANNER)) {
        this.raw = true;
        this.rawLen = 0;
      }
    }
    return ret;
  }

  async softReset() {
    this.line.emit(Buffer.from("MPY: soft reboot\r\n"));
    const files = snapshotFs(this.mp.FS);
    await this.boot(files);
  }
}

async function main(argv) {
  const { fd } = parseArgs(argv);
  const line = new Line(fd);
  const board = new Board(line);
  await board.boot(null);
  for (;;) {
    const c = line.next();
    if (c === null) break;
    const ret = board.process(c);
    if (ret & PYEXEC_FORCED_EXIT) await board.softReset();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err) => {
    console.error(`repl_pty: ${err && err.stack ? err.stack : err}`);
    process.exit(2);
  },
);
