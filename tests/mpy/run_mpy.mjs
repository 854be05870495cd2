#!/usr/bin/env node
// Run firmware tests (or a benchmark script) on the real MicroPython 1.27 interpreter,
// compiled to WebAssembly, so code that only works on CPython fails here before it
// reaches the belt.
//
//   node tests/mpy/run_mpy.mjs [tests/firmware/test_x.py ...]   (default: all test_*.py)
//   node tests/mpy/run_mpy.mjs --script benchmarks/mpy/foo.py [args...]
//
// firmware/**/*.py is copied to /lib (so `from belt import fusion` works as on the
// device). Tests run in definition order; one PASS/FAIL line each, then a JSON summary
// {"passed":N,"failed":M,"errors":[...]} as the last line. Exit status is non-zero when
// anything failed or nothing ran.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const HEAP_BYTES = 4 * 1024 * 1024; // initial GC heap; the wasm port grows it on demand
const TEST_DEF = /^def (test_\w+)\s*\(/gm;

function pyFilesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "__pycache__") out.push(...pyFilesUnder(full));
    else if (entry.isFile() && entry.name.endsWith(".py")) out.push(full);
  }
  return out.sort();
}

function defaultTestFiles() {
  const dir = path.join(ROOT, "tests", "firmware");
  return fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => /^test_\w+\.py$/.test(n)).sort().map((n) => path.join(dir, n))
    : [];
}

// Copy `files` into the wasm filesystem under `destDir`, keeping paths relative to `base`.
function copyInto(mp, files, base, destDir) {
  for (const file of files) {
    const dest = path.posix.join(destDir, path.relative(base, file).split(path.sep).join("/"));
    mp.FS.mkdirTree(path.posix.dirname(dest));
    mp.FS.writeFile(dest, fs.readFileSync(file));
  }
}

// Helpers next to a test or script (e.g. tests/firmware/golden.py) must be importable too;
// conftest.py is CPython-only glue and is left out.
function siblingModules(file) {
  const dir = path.dirname(file);
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".py") && n !== "conftest.py")
    .map((n) => path.join(dir, n));
}

// Python side of the runner. Reads /runner/plan.json, writes /runner/result.json.
const HARNESS = String.raw`
import gc, json, sys

def _label(e):
    msg = str(e)
    return type(e).__name__ + (": " + msg if msg else "")

def _run_tests(plan):
    sys.path.insert(0, "/tests")
    passed = 0
    errors = []
    for mod_name, names in plan["modules"]:
        try:
            mod = __import__(mod_name)
        except BaseException as e:
            errors.append("%s::<import>: %s" % (mod_name, _label(e)))
            print("FAIL " + errors[-1])
            sys.print_exception(e)
            continue
        for name in names:
            where = "%s::%s" % (mod_name, name)
            fn = getattr(mod, name, None)
            try:
                if fn is None:
                    raise LookupError("test function not found after import")
                ret = fn()
                if type(ret).__name__ == "generator":
                    raise TypeError("test returned a generator/coroutine, so it never ran")
            except BaseException as e:
                errors.append("%s: %s" % (where, _label(e)))
                print("FAIL " + errors[-1])
                sys.print_exception(e)
            else:
                passed += 1
                print("PASS " + where)
            gc.collect()
    return {"passed": passed, "failed": len(errors), "errors": errors}

def _run_script(plan):
    sys.path.insert(0, "/script")
    sys.argv[:] = plan["argv"]
    status = 0
    try:
        with open(plan["script"]) as f:
            code = compile(f.read(), plan["script"], "exec")
        exec(code, {"__name__": "__main__", "__file__": plan["script"]})
    except SystemExit as e:
        arg = e.args[0] if e.args else 0
        status = arg if isinstance(arg, int) else 1
    except BaseException as e:
        sys.print_exception(e)
        status = 1
    return {"status": status}

def _main():
    with open("/runner/plan.json") as f:
        plan = json.load(f)
    result = _run_script(plan) if "script" in plan else _run_tests(plan)
    with open("/runner/result.json", "w") as f:
        json.dump(result, f)

_main()
`;

async function main(argv) {
  const mp = await loadMicroPython({
    heapsize: HEAP_BYTES,
    linebuffer: true,
    stdout: (line) => process.stdout.write(line + "\n"),
    stderr: (line) => process.stderr.write(line + "\n"),
  });
  const firmware = path.join(ROOT, "firmware");
  copyInto(mp, pyFilesUnder(firmware), firmware, "/lib");
  mp.FS.mkdirTree("/runner");

  let plan;
  if (argv[0] === "--script") {
    if (argv.length < 2) throw new Error("--script needs a file");
    const script = path.resolve(argv[1]);
    copyInto(mp, siblingModules(script), path.dirname(script), "/script");
    const inFs = "/script/" + path.basename(script);
    plan = { script: inFs, argv: [inFs, ...argv.slice(2)] };
  } else {
    const files = (argv.length ? argv.map((f) => path.resolve(f)) : defaultTestFiles());
    const modules = [];
    const seen = new Set();
    for (const file of files) {
      const name = path.basename(file, ".py");
      if (seen.has(name)) throw new Error(`two test files named ${name}.py`);
      seen.add(name);
      copyInto(mp, siblingModules(file), path.dirname(file), "/tests");
      const source = fs.readFileSync(file, "utf8");
      modules.push([name, [...source.matchAll(TEST_DEF)].map((m) => m[1])]);
    }
    plan = { modules };
  }
  mp.FS.writeFile("/runner/plan.json", JSON.stringify(plan));
  mp.runPython(HARNESS);
  const result = JSON.parse(mp.FS.readFile("/runner/result.json", { encoding: "utf8" }));

  if (plan.script) return result.status;
  const { passed, failed, errors } = result; // fixed key order (MicroPython dicts are unordered)
  console.log(JSON.stringify({ passed, failed, errors }));
  return failed === 0 && passed > 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err) => {
    // Errors escaping the harness itself (bad arguments, missing files, runner bugs).
    console.error(`run_mpy: ${err && err.message ? err.message : err}`);
    process.exit(2);
  },
);
