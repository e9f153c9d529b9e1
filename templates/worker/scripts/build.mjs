// The Worker's build command (wrangler.jsonc "build"): `worker-build`, timed.
//
//   node scripts/build.mjs [WATCHED_PATH...]   (default: src Cargo.toml Cargo.lock wrangler.jsonc)
//
// Under `wrangler deploy` (and any command but `wrangler dev`) it is `worker-build --release`:
// it fails when the build fails.
//
// Under `wrangler dev` (WRANGLER_COMMAND=dev) it is the dev loop's rebuild:
// * `worker-build --release --no-opt`: the release profile without wasm-opt, which takes most of
//   a rebuild's time and changes nothing but the size (deploy and the tests still run it).
// * Only when a source changed: wrangler's watcher also reports files the compiler merely read,
//   one build each. Builds run one at a time (a lock under build/); each compares the newest
//   modification time of the watched paths with the one the last build recorded
//   (build/.layers-dev-sources) and does nothing when no source is newer.
// * A build that fails exits 0 all the same: wrangler 4.86 holds requests while a build runs and
//   keeps holding them when the command fails, so every request would hang until the next good
//   build. A failed cargo build leaves build/ as it was, so wrangler reloads the previous build,
//   which keeps serving; the compiler's errors show above the FAILED line.
//   (LAYERS_BUILD_STRICT=1 makes it exit 1: for a first build, with nothing to keep serving.)
//
// worker-build is `$WORKER_BUILD_BIN` or `worker-build` on PATH; like worker-build itself, it
// uses WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN when they are set.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const project = process.cwd();
const buildDir = path.join(project, "build");
const watched = process.argv.length > 2 ? process.argv.slice(2) : ["src", "Cargo.toml", "Cargo.lock", "wrangler.jsonc"];
const dev = process.env.WRANGLER_COMMAND === "dev";
const workerBuild = process.env.WORKER_BUILD_BIN || "worker-build";
const say = (line) => console.log(`[layers] ${line}`);

if (!dev) {
  process.exit(run(["--release"]).status);
}

fs.mkdirSync(buildDir, { recursive: true });
const release = lock(path.join(buildDir, ".layers-dev-rebuild.lock"));
try {
  const newest = newestModified(watched);
  const stampPath = path.join(buildDir, ".layers-dev-sources");
  const recorded = fs.existsSync(stampPath) ? Number(fs.readFileSync(stampPath, "utf8").trim()) : NaN;
  if (Number.isFinite(recorded) && newest <= recorded) {
    say("no source changed since the last build: nothing to rebuild");
  } else {
    say("rebuilding: worker-build --release --no-opt");
    const { status, seconds } = run(["--release", "--no-opt"]);
    // Recorded whatever the outcome: the compiler reading the sources again is no reason to
    // build again; the next save is.
    fs.writeFileSync(stampPath, `${newest}\n`);
    if (status === 0) {
      const wasm = path.join(buildDir, "index_bg.wasm");
      const kib = fs.existsSync(wasm) ? `${(fs.statSync(wasm).size / 1024).toFixed(1)} KiB` : "?";
      say(`rebuilt in ${seconds} s (wasm ${kib}, not wasm-opt'ed); wrangler reloads the Worker now`);
    } else {
      say(`build FAILED after ${seconds} s: the previous build keeps serving; fix the error above and save again`);
      if (process.env.LAYERS_BUILD_STRICT === "1") process.exitCode = 1;
    }
  }
} finally {
  release();
}

/** Runs worker-build with `args`; returns its exit status (1 if it could not start) and the time. */
function run(args) {
  const start = process.hrtime.bigint();
  // No backtrace under cargo's errors when worker-build fails.
  const env = { ...process.env, RUST_LIB_BACKTRACE: "0" };
  const result = spawnSync(workerBuild, args, { stdio: "inherit", env });
  const seconds = (Number(process.hrtime.bigint() - start) / 1e9).toFixed(1);
  if (result.error) {
    console.error(
      `[layers] could not run ${workerBuild}: ${result.error.message} ` +
        "(install it: cargo install worker-build --version 0.8.7 --locked)",
    );
    return { status: 1, seconds };
  }
  return { status: result.status ?? 1, seconds };
}

/** The newest modification time (ms since the epoch) under `paths`; missing paths are skipped. */
function newestModified(paths) {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    // A directory's own time changes when an entry is added, removed or renamed in it.
    newest = Math.max(newest, st.mtimeMs);
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    }
  };
  paths.forEach((p) => visit(path.resolve(project, p)));
  return newest;
}

/**
 * Waits for the lock directory `dir` (mkdir is atomic) and returns its release. A lock whose
 * holder is gone (its pid no longer runs) is taken over.
 */
function lock(dir) {
  const pidFile = path.join(dir, "pid");
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(pidFile, `${process.pid}\n`);
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
    const holder = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : NaN);
    if (Number.isInteger(holder) && !alive(holder)) {
      fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
