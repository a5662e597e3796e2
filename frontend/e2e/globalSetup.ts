// Starts AURA the way a person does (`aura up`) in a throwaway data dir, on a free port, with a
// known admin key and the freshly built dashboard, and stops it (and its children) afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { FRONTEND, ROOT, PYTHON } from "./paths";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    adminKey: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function waitHealthy(url: string, proc: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`aura up exited with ${proc.exitCode}; see ${log}`);
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`aura up did not become healthy in 120 s; see ${log}`);
}

let proc: ChildProcess | null = null;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "aura-e2e-"));
  const port = await freePort();
  const adminKey = `aura_e2e_admin_${Date.now().toString(36)}`;
  const log = join(dataDir, "aura-up.log");
  const out = openSync(log, "a");
  proc = spawn(PYTHON, ["-m", "aura.cli", "up", "--port", String(port)], {
    cwd: ROOT,
    // Its own process group, so teardown stops the gateway, worker and sweeper together.
    detached: true,
    stdio: ["ignore", out, out],
    env: {
      ...process.env,
      AURA_DATA_DIR: dataDir,
      AURA_BOOTSTRAP_OPERATOR_KEY: adminKey,
      AURA_FRONTEND_DIST: join(FRONTEND, "dist"),
      AURA_DATABASE_URL: "",
      AURA_BROKER_URL: "",
      // A checkpoint after every entry, so each verdict's receipt is provable against one at once.
      AURA_CHECKPOINT_EVERY_ENTRIES: "1",
    },
  });
  // If the test runner itself is killed, take AURA down with it rather than leave it running.
  const stopGroup = (signal: NodeJS.Signals) => {
    if (proc?.pid && proc.exitCode === null) process.kill(-proc.pid, signal);
  };
  process.once("exit", () => stopGroup("SIGKILL"));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      stopGroup("SIGTERM");
      process.exit(1);
    });
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(baseUrl, proc, log);
  project.provide("baseUrl", baseUrl);
  project.provide("adminKey", adminKey);
  return async () => {
    if (proc?.pid && proc.exitCode === null) {
      process.kill(-proc.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 3_000));
      if (proc.exitCode === null) process.kill(-proc.pid, "SIGKILL");
    }
  };
}
