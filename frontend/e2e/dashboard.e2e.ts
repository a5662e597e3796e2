// The dashboard against a real AURA: sign in, watch verdicts arrive, read the evidence of a
// rejected update, verify the ledger, filter the table, upload by hand, and a hospital's view.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminKey, baseUrl, hospital, launch, recorded, screenshot, signedIn, submit, update } from "./support";

let browser: Browser;
let attackId = "";
let attackerId = "";
let earlyCheckpoint = ""; // a signed checkpoint kept from when the log was small

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe("the operators' dashboard", () => {
  it("signs in with the admin key and shows the overview", async () => {
    const page = await signedIn(browser, adminKey());
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByText("Submissions today").waitFor();
    await page.getByText(/Workers online: .+@/).waitFor({ timeout: 30_000 });
    await screenshot(page, "01-overview-empty");
    await page.close();
  });

  it("refuses a wrong key with the gateway's message", async () => {
    const page = await browser.newPage();
    await page.goto(baseUrl());
    await page.getByLabel("API key").fill("aura_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText(/unknown or revoked/).waitFor();
    await page.close();
  });

  it("shows a submission reach its verdict in the live table without a reload", async () => {
    const page = await signedIn(browser, adminKey(), "/submissions");
    await page.getByText("No submissions match").waitFor();
    const honest = await hospital("cleveland");
    const id = await submit(honest.key, update("honest", 1));
    const row = page.locator(`tr:has(a[href="/submissions/${id}"])`);
    await row.waitFor({ timeout: 15_000 });
    await page.locator(`tr[data-status="recorded"]:has(a[href="/submissions/${id}"])`).waitFor({ timeout: 120_000 });
    await expect(row.getAttribute("data-verdict")).resolves.toBe("accepted");
    const checkpoint = await fetch(`${baseUrl()}/api/v1/ledger/checkpoint`, { headers: { "X-API-Key": adminKey() } });
    earlyCheckpoint = ((await checkpoint.json()) as { note: string }).note;
    await screenshot(page, "02-submissions-live");
    await page.close();
  });

  it("opens a rejected update and shows its reasons and fingerprint chart", async () => {
    const second = await hospital("hungary");
    await recorded(await submit(second.key, update("honest", 2)));
    const attacker = await hospital("attacker");
    attackerId = attacker.id;
    attackId = await submit(attacker.key, update("attack", 9));
    expect((await recorded(attackId)).verdict).toBe("rejected");

    const page = await signedIn(browser, adminKey(), `/submissions/${attackId}`);
    await page.getByRole("heading", { name: /Submission/ }).waitFor();
    await page.locator(".badge.rejected").first().waitFor();
    const reasons = page.locator("ol.reasons li");
    expect(await reasons.count()).toBeGreaterThan(0);
    await expect(reasons.first().innerText()).resolves.toMatch(/golden-set|norm|direction|attribution/);
    await page.locator("figure.fingerprint svg .recharts-bar-rectangle").first().waitFor();
    await expect(page.locator("figure.fingerprint figcaption").innerText()).resolves.toMatch(/Largest shifts/);
    await page.locator('figure[aria-label="score distribution"] svg.recharts-surface[role="application"]').waitFor();
    await screenshot(page, "03-evidence-rejected");
    // The printable page: no nav bar or buttons, the evidence itself.
    await page.emulateMedia({ media: "print" });
    await expect(page.getByRole("navigation", { name: "main" }).isVisible()).resolves.toBe(false);
    await expect(page.getByRole("button", { name: "Print" }).isVisible()).resolves.toBe(false);
    await expect(page.locator("ol.reasons").isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: "screen" });
    await page.close();
  });

  it("verifies the rejected update's receipt and its Ed25519 checkpoint signature in the browser", async () => {
    const page = await signedIn(browser, adminKey(), `/submissions/${attackId}`);
    await page.getByRole("button", { name: "Verify inclusion in this browser" }).click();
    await page.getByText("Receipt verified").waitFor({ timeout: 30_000 });
    await expect(page.locator(".verify-result").innerText()).resolves.toMatch(/signed by/);
    await page.locator(".receipt").scrollIntoViewIfNeeded();
    await screenshot(page, "04-receipt", false);
    await page.close();
  });

  it("verifies the whole ledger on the server and in the browser", async () => {
    const page = await signedIn(browser, adminKey(), "/ledger");
    await page.locator("table.entries tbody tr").first().waitFor();
    await page.getByRole("button", { name: "Verify on the server" }).click();
    const result = page.locator(".verify-result, .state.error").first();
    await result.waitFor({ timeout: 60_000 });
    await expect(result.innerText()).resolves.toMatch(/Ledger verified: all \d+ entries/);
    await page.getByText(/Ed25519 signature by .+ verified in this browser/).waitFor();
    await page.getByRole("button", { name: "Recompute in this browser" }).click();
    await page.getByText(/entries hash to their leaves/).waitFor({ timeout: 30_000 });
    await page.getByText(/equals the root of the signed checkpoint of size \d+/).waitFor();
    await page.getByLabel("Find by index, submission id or hash").fill("1");
    await page.getByRole("button", { name: "Find" }).click();
    await page.locator("table.entries").first().locator("tbody tr td").first().getByText("1", { exact: true }).waitFor();
    await page.getByLabel("earlier checkpoint").fill(earlyCheckpoint);
    await page.getByRole("button", { name: "Check consistency" }).click();
    await page.getByText(/tree 1 is a prefix of tree \d+/).waitFor();
    // The same note with its size edited: its signature no longer holds.
    await page.getByLabel("earlier checkpoint").fill(earlyCheckpoint.replace(/\n1\n/, "\n2\n"));
    await page.getByRole("button", { name: "Check consistency" }).click();
    await page.getByText(/signature does not verify/).waitFor();
    await screenshot(page, "05-ledger-verified");
    await page.close();
  });

  it("filters the table by verdict on the server and keeps the filter in the URL", async () => {
    const page = await signedIn(browser, adminKey(), "/submissions");
    await page.locator("tbody tr").first().waitFor();
    await page.getByLabel("Verdict").selectOption("rejected");
    await page.waitForURL(/verdict=rejected/);
    // The table keeps the previous page on screen until the filtered one arrives: wait for that one.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("tbody tr")];
      return rows.length > 0 && rows.every((r) => r.getAttribute("data-verdict") === "rejected");
    }, undefined, { timeout: 15_000 });
    await page.locator(`tbody tr:has(a[href="/submissions/${attackId}"])`).waitFor();
    const verdicts = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-verdict")));
    expect(new Set(verdicts)).toEqual(new Set(["rejected"]));
    await screenshot(page, "06-submissions-filtered");
    await page.close();
  });

  it("shows the validation error when a hand upload is not a safetensors file", async () => {
    const target = await hospital("manual");
    const page = await signedIn(browser, adminKey(), "/upload");
    await page.getByLabel("Hospital API key").fill(target.key);
    await page.getByLabel("Update (.safetensors)").setInputFiles({ name: "bad.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from("not a model") });
    await page.getByRole("button", { name: "Submit" }).click();
    await page.getByRole("alert").getByText(/Could not load the upload/).waitFor();
    await screenshot(page, "07-upload-refused");
    await page.close();
  });

  it("uploads a real update by hand and watches it through the pipeline", async () => {
    const target = await hospital("manual-ok");
    const page = await signedIn(browser, adminKey(), "/upload");
    await page.getByLabel("Hospital API key").fill(target.key);
    await page.getByLabel("Task").selectOption("heart-mlp"); // several tasks are installed: pick the update's
    await page.getByLabel("Update (.safetensors)").setInputFiles({ name: "u.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from(update("honest", 3)) });
    await page.getByRole("button", { name: "Submit" }).click();
    await page.getByText("Submitted:").waitFor();
    await page.locator('[aria-label="pipeline: recorded"]').waitFor({ timeout: 120_000 });
    await page.close();
  });

  it("lets an admin add a hospital, then issue and revoke its keys", async () => {
    const id = `ui-${Date.now().toString(36)}`;
    const page = await signedIn(browser, adminKey(), "/hospitals");
    const form = page.getByRole("form", { name: "add a hospital" });
    await form.getByLabel("Id").fill(id);
    await form.getByLabel("Name").fill("Added from the dashboard");
    await form.getByLabel("Centre").selectOption("Hungary");
    await form.getByRole("button", { name: "Add" }).click();
    const firstKey = (await page.locator(".newkey code").innerText()).trim();
    expect(firstKey).toMatch(/^aura_/);
    await page.getByRole("row", { name: new RegExp(id) }).getByRole("cell", { name: "Hungary" }).waitFor();
    await page.getByRole("link", { name: id }).click();
    await page.getByRole("heading", { name: /Added from the dashboard/ }).waitFor();
    await page.getByRole("button", { name: "Issue a new key" }).click();
    const secondKey = (await page.locator(".newkey code").innerText()).trim();
    // Keys are listed newest first, so the first Revoke button is the key just issued.
    await page.getByRole("button", { name: "Revoke" }).first().click();
    await page.getByText(/^revoked /).first().waitFor();
    const status = async (key: string) => (await fetch(`${baseUrl()}/api/v1/me`, { headers: { "X-API-Key": key } })).status;
    expect(await status(secondKey)).toBe(401);
    expect(await status(firstKey)).toBe(200);
    await screenshot(page, "14-hospital-keys");
    await page.close();
  });

  it("gives a hospital key its own views only", async () => {
    const own = await hospital("own");
    const page = await signedIn(browser, own.key);
    const nav = page.getByRole("navigation", { name: "main" });
    await expect(nav.getByRole("link", { name: "Analytics" }).count()).resolves.toBe(0);
    await nav.getByRole("link", { name: "Hospitals" }).click();
    await page.waitForURL(new RegExp(`/hospitals/${own.id}`));
    await page.getByText("has not submitted an update yet").waitFor();
    await page.close();
  });

  it("summarises the traffic on the Overview, Analytics and Security views", async () => {
    const page = await signedIn(browser, adminKey());
    await page.getByText(/signed checkpoint at \d+/).waitFor({ timeout: 30_000 });
    await page.locator(".recharts-bar-rectangle").first().waitFor();
    await page.getByText(/Workers online: .+@/).waitFor({ timeout: 30_000 });
    await screenshot(page, "08-overview");
    await page.getByRole("link", { name: "Analytics" }).click();
    await page.getByRole("heading", { name: "Attacks" }).waitFor();
    await page.locator(`a[href="/hospitals/${encodeURIComponent(attackerId)}"]`).waitFor();
    await screenshot(page, "09-analytics");
    await page.getByRole("link", { name: "Security" }).click();
    await page.getByText("Failed authentications").waitFor();
    await page.getByText("bad_key").first().waitFor();
    await screenshot(page, "10-security");
    await page.getByRole("link", { name: "Datasets" }).click();
    await page.getByText("Golden set, per feature").waitFor();
    await screenshot(page, "11-datasets");
    await page.close();
  });

  it("stays readable on a narrow screen", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${baseUrl()}/submissions/${attackId}`);
    await page.getByLabel("API key").fill(adminKey());
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("ol.reasons li").first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "12-evidence-narrow");
    // The ledger: its verifier key and checkpoint hashes once widened the page past a phone's screen.
    await page.getByRole("link", { name: "Ledger" }).click();
    await page.getByText("Verifier key:").waitFor();
    const ledgerOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(ledgerOverflow).toBeLessThanOrEqual(0);
    await screenshot(page, "12-ledger-narrow");
    await page.close();
  });

  it("starts a short federated run with an attacker and charts AURA against the plain aggregate", async (ctx) => {
    const probe = await fetch(`${baseUrl()}/api/v1/runs`, { headers: { "X-API-Key": adminKey() } });
    if (probe.status === 404) ctx.skip(); // the runs API is not in this gateway
    const page = await signedIn(browser, adminKey(), "/runs");
    await page.getByLabel("Rounds").fill("2");
    await page.getByLabel("Attacking hospital").selectOption("switzerland");
    await page.getByLabel("Attack", { exact: true }).selectOption("scaling");
    await page.getByRole("button", { name: "Start" }).click();
    await page.locator("article.run").first().waitFor();
    await page.getByRole("link", { name: "Download model" }).waitFor({ timeout: 170_000 });
    await expect(page.locator("article.run").first().innerText()).resolves.toMatch(/Final accuracy: AURA \d/);
    await screenshot(page, "13-runs");
    await page.close();
  }, 200_000);

  it("serves every view under its Content-Security-Policy with no violation", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // Recorded from the first script on, before the dashboard's own code runs.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const response = await page.goto(baseUrl());
    const policy = response?.headers()["content-security-policy"] ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
    expect(response?.headers()["referrer-policy"]).toBe("no-referrer");
    await page.getByLabel("API key").fill(adminKey());
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "main" }).waitFor();
    const views = ["/", "/submissions", `/submissions/${attackId}`, "/hospitals", `/hospitals/${attackerId}`, "/ledger",
      "/upload", "/runs", "/datasets", "/analytics", "/security"];
    for (const view of views) {
      await page.evaluate((path) => {
        window.history.pushState({}, "", path);
        window.dispatchEvent(new PopStateEvent("popstate"));
      }, view);
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(500); // charts draw after their data arrives
    }
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations).toEqual([]);
    await page.close();
  }, 120_000);

  it("loads every view with no failed request (the icon included) and a title of its own", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const failed: string[] = []; // every answer >= 400, from the first request of the page on
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(baseUrl());
    await page.getByLabel("API key").fill(adminKey());
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "main" }).waitFor();
    const expected: [string, string][] = [
      ["/", "Overview · AURA"], ["/submissions", "Submissions · AURA"],
      [`/submissions/${attackId}`, `Submission ${attackId.slice(0, 8)} · AURA`], ["/hospitals", "Hospitals · AURA"],
      [`/hospitals/${attackerId}`, `Hospital ${attackerId} · AURA`], ["/ledger", "Ledger · AURA"],
      ["/runs", "Runs · AURA"], ["/security", "Security · AURA"]];
    for (const [view, title] of expected) {
      await page.evaluate((path) => {
        window.history.pushState({}, "", path);
        window.dispatchEvent(new PopStateEvent("popstate"));
      }, view);
      await page.waitForFunction((t) => document.title === t, title, { timeout: 10_000 });
      await page.waitForLoadState("networkidle");
    }
    expect(failed).toEqual([]);
    expect((await fetch(`${baseUrl()}/favicon.svg`)).status).toBe(200);
    await page.close();
  }, 120_000);

  it("serves deep links to the dashboard and keeps the API's 404s", async () => {
    const deep = await fetch(`${baseUrl()}/submissions/${attackId}`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const missing = await fetch(`${baseUrl()}/api/v1/nothing-here`);
    expect(missing.status).toBe(404);
  });
});
