// The ledger's signed head and public key. "No checkpoint yet" is a normal state of a young log
// (404 from the gateway), so it is returned as null rather than thrown.
import { ApiError, api, unwrap, type Schemas } from "./client";

export async function latestCheckpoint(): Promise<Schemas["CheckpointOut"] | null> {
  try {
    return unwrap(await api.GET("/api/v1/ledger/checkpoint"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function logKey(): Promise<string> {
  return unwrap(await api.GET("/api/v1/ledger/key")).vkey;
}
