import { describe, expect, it } from "vitest";
import { bytesToBase64, hexToBytes } from "./encoding";
import kat from "./fixtures/ledger-kat.json";
import { checkReceipt, type Receipt } from "./receipt";

const proof = kat.inclusion.find((p) => p.size === 11 && p.index === 4)!;
const b64 = (hex: string) => bytesToBase64(hexToBytes(hex));
const receipt: Receipt = {
  format: "aura-receipt-v1",
  submission_id: "s-4",
  index: 4,
  tree_size: 11,
  entry: kat.entries[4]!,
  leaf_hash: b64(kat.leaves[4]!),
  inclusion_proof: proof.path.map(b64),
  checkpoint: kat.note,
};

describe("ledger receipts checked in the browser", () => {
  it("accepts a receipt made by services/ledger", async () => {
    const check = await checkReceipt(receipt, kat.vkey);
    expect(check.steps.filter((s) => s.ok === false)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.signature.status).toBe("valid");
  });

  it("fails a receipt whose entry was altered", async () => {
    expect((await checkReceipt({ ...receipt, entry: "entry 5" }, kat.vkey)).ok).toBe(false);
  });

  it("fails a receipt proved against another leaf position", async () => {
    expect((await checkReceipt({ ...receipt, index: 5 }, kat.vkey)).ok).toBe(false);
  });

  it("still checks the proof when no verifier key is known, and says the signature was not checked", async () => {
    const check = await checkReceipt(receipt, null);
    expect(check.ok).toBe(true);
    expect(check.signature.status).toBe("absent");
  });
});
