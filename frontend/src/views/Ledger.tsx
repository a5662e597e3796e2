// The Ledger: the signed checkpoint, whole-log verification on the server and in the browser, a
// consistency check against a checkpoint kept from earlier, and the entries with search.
import { useQuery } from "@tanstack/react-query";
import { Empty, QueryView } from "../components/States";
import { loadCheckpoint } from "./ledger/checkpoint";
import { CheckpointPanel } from "./ledger/CheckpointPanel";
import { ConsistencyPanel } from "./ledger/ConsistencyPanel";
import { Entries } from "./ledger/Entries";
import { VerifyPanel } from "./ledger/VerifyPanel";

export function LedgerView() {
  const checkpoint = useQuery({ queryKey: ["checkpoint"], queryFn: loadCheckpoint, refetchInterval: 10_000 });
  return (
    <section>
      <h1>Ledger</h1>
      <h2>Signed checkpoint</h2>
      <QueryView query={checkpoint} what="the checkpoint">
        {(cp) => (cp ? <CheckpointPanel info={cp} /> : <Empty>No checkpoint has been signed yet: the log publishes one as entries arrive.</Empty>)}
      </QueryView>
      <VerifyPanel checkpoint={checkpoint.data?.checkpoint ?? null} />
      {checkpoint.data && <ConsistencyPanel current={checkpoint.data.checkpoint} vkey={checkpoint.data.vkey} />}
      <Entries />
    </section>
  );
}
