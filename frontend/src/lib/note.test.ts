import { describe, expect, it } from "vitest";
import { bytesToHex } from "./encoding";
import { parseCheckpoint, parseNote, verifyNote } from "./note";
import kat from "./fixtures/ledger-kat.json";

describe("signed checkpoints from services/ledger", () => {
  it("parses the checkpoint inside the note", () => {
    const cp = parseCheckpoint(parseNote(kat.note).body);
    expect(cp.origin).toBe("aura.example/ledger");
    expect(cp.size).toBe(11);
    expect(bytesToHex(cp.root)).toBe((kat.roots as Record<string, string>)["11"]);
  });

  it("verifies the Ed25519 signature with WebCrypto", async () => {
    expect(await verifyNote(kat.note, kat.vkey)).toEqual({ status: "valid", signer: "aura.example" });
  });

  it("rejects a note whose text was changed after signing", async () => {
    const tampered = kat.note.replace("\n11\n", "\n12\n");
    const check = await verifyNote(tampered, kat.vkey);
    expect(check.status).toBe("invalid");
  });

  it("rejects a note signed by another key", async () => {
    const other = kat.vkey.replace("aura.example+", "someone.else+");
    expect((await verifyNote(kat.note, other)).status).toBe("invalid");
  });
});
