// Loading, error and empty states, shared so every view says the same thing the same way.
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ what = "data" }: { what?: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, what = "this" }: { error: unknown; what?: string }) {
  const status = error instanceof ApiError ? error.status : null;
  const hint =
    status === 401
      ? "Your key was refused; sign in again."
      : status === 403
        ? "Your key may not see this."
        : status === 404
          ? "The gateway does not offer this (yet), or it does not exist."
          : null;
  return (
    <div className="state error" role="alert">
      <strong>Could not load {what}.</strong> {error instanceof Error ? error.message : String(error)}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** Render a query's data, or its loading or error state. */
export function QueryView<T>({
  query,
  what,
  children,
}: {
  query: UseQueryResult<T>;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError) return <ErrorBox error={query.error} what={what} />;
  return <>{children(query.data)}</>;
}
