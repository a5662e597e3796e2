// What the end-to-end tests share: real updates built by tests/support.py, hospitals and
// submissions over HTTP, and a Chromium page signed in to the dashboard.
import { execFileSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { inject } from "vitest";
import { PYTHON, RESULTS, ROOT } from "./paths";

export const baseUrl = () => inject("baseUrl");
export const adminKey = () => inject("adminKey");

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.AURA_CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_FLAGS });
}

/** A new page at 1280x800, signed in with `key`, on `path`. */
export async function signedIn(browser: Browser, key: string, path = "/"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(baseUrl() + path);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "main" }).waitFor();
  return page;
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** Update bytes from tests/support.py: an honest local training step, or a 5x-noise attack. */
export function update(kind: "honest" | "attack", seed: number): Uint8Array {
  const call =
    kind === "honest" ? `trained_update(centre="Cleveland", seed=${seed})` : `perturbed_update(seed=${seed}, scale=5.0)`;
  const code = `import sys; from tests.support import perturbed_update, trained_update; sys.stdout.buffer.write(${call})`;
  return new Uint8Array(execFileSync(PYTHON, ["-c", code], { cwd: ROOT, env: { ...process.env, AURA_DATA_DIR: join(RESULTS, ".py") } }));
}

/**
 * One HTTP request on a connection of its own (no keep-alive). uvicorn closes idle keep-alive
 * connections after 5 s, and building an update takes about that long, so a pooled connection
 * is often dead by the time the upload is written onto it (EPIPE).
 */
async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const prepared = new Request(url, init); // serialises FormData/JSON bodies and their content type
  const body = init.body === undefined ? undefined : Buffer.from(await prepared.arrayBuffer());
  const headers: Record<string, string> = Object.fromEntries(prepared.headers.entries());
  if (body) headers["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: prepared.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Register a hospital with the admin key; returns its id and API key. */
export async function hospital(prefix: string): Promise<{ id: string; key: string }> {
  const id = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const body = await json<{ api_key: string }>(
    await send(`${baseUrl()}/api/v1/hospitals`, {
      method: "POST",
      headers: { "X-API-Key": adminKey(), "Content-Type": "application/json" },
      body: JSON.stringify({ id, name: `${prefix} hospital` }),
    }),
  );
  return { id, key: body.api_key };
}

/** POST an update for round 1 of heart-mlp as that hospital; returns the submission id. */
export async function submit(key: string, bytes: Uint8Array): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([bytes as BlobPart]), "update.safetensors");
  form.set("task", "heart-mlp");
  form.set("round", "1");
  const body = await json<{ id: string }>(
    await send(`${baseUrl()}/api/v1/submissions`, { method: "POST", headers: { "X-API-Key": key }, body: form }),
  );
  return body.id;
}

/** Poll the API until the submission is recorded in the ledger. */
export async function recorded(id: string, timeoutMs = 120_000): Promise<{ verdict: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const body = await json<{ status: string; verdict: string }>(
      await send(`${baseUrl()}/api/v1/submissions/${id}`, { headers: { "X-API-Key": adminKey() } }),
    );
    if (body.status === "recorded") return body;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`submission ${id} not recorded in ${timeoutMs} ms`);
}
