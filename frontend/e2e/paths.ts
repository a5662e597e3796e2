import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = resolve(FRONTEND, "..");
export const PYTHON = process.env.AURA_PYTHON ?? join(ROOT, ".venv", "bin", "python");
export const RESULTS = join(FRONTEND, "test-results");
