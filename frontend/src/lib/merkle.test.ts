import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "./encoding";
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from "./merkle";
import kat from "./fixtures/ledger-kat.json";

const leaves = kat.leaves.map(hexToBytes);
const roots = kat.roots as Record<string, string>;
const rootAt = (n: number) => hexToBytes(roots[String(n)]!);

describe("RFC 9162 Merkle verification agrees with services/ledger", () => {
  it("hashes entries into the ledger's leaf hashes", async () => {
    const computed = await Promise.all(kat.entries.map((e) => leafHash(new TextEncoder().encode(e))));
    expect(computed.map(bytesToHex)).toEqual(kat.leaves);
  });

  it("computes the same root for every prefix of the log", async () => {
    for (let n = 0; n <= leaves.length; n++) expect(bytesToHex(await rootOf(leaves.slice(0, n)))).toBe(roots[String(n)]);
  });

  it("accepts every inclusion proof the server produced", async () => {
    for (const p of kat.inclusion) {
      const ok = await verifyInclusion(p.index, p.size, leaves[p.index]!, p.path.map(hexToBytes), rootAt(p.size));
      expect(ok, `leaf ${p.index} of ${p.size}`).toBe(true);
    }
  });

  it("refuses an inclusion proof for the wrong leaf, index or root", async () => {
    const p = kat.inclusion.find((x) => x.size === 11 && x.index === 6)!;
    const path = p.path.map(hexToBytes);
    expect(await verifyInclusion(6, 11, leaves[5]!, path, rootAt(11))).toBe(false);
    expect(await verifyInclusion(5, 11, leaves[6]!, path, rootAt(11))).toBe(false);
    expect(await verifyInclusion(6, 11, leaves[6]!, path, rootAt(10))).toBe(false);
    expect(await verifyInclusion(11, 11, leaves[6]!, path, rootAt(11))).toBe(false);
  });

  it("accepts every consistency proof the server produced", async () => {
    for (const c of kat.consistency) {
      const ok = await verifyConsistency(c.size1, c.size2, rootAt(c.size1), rootAt(c.size2), c.proof.map(hexToBytes));
      expect(ok, `${c.size1} -> ${c.size2}`).toBe(true);
    }
  });

  it("refuses a consistency proof against a forked old root", async () => {
    const c = kat.consistency.find((x) => x.size1 === 3 && x.size2 === 11)!;
    const forked = rootAt(4);
    expect(await verifyConsistency(3, 11, forked, rootAt(11), c.proof.map(hexToBytes))).toBe(false);
    expect(await verifyConsistency(3, 11, rootAt(3), rootAt(10), c.proof.map(hexToBytes))).toBe(false);
  });
});
