// Query hooks over the typed client; polling intervals live here so views stay declarative.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

export const LIVE_MS = 2_000; // how often live views re-ask: a verdict takes a few seconds

export type SubmissionFilters = {
  hospital?: string;
  task?: string;
  round?: number;
  verdict?: string;
  status?: string;
  sort?: "created_at" | "-created_at" | "round" | "-round" | "hospital_id" | "-hospital_id";
  limit?: number;
  offset?: number;
};

export function useSubmissions(filters: SubmissionFilters, live = true) {
  return useQuery({
    queryKey: ["submissions", filters],
    queryFn: async () => unwrap(await api.GET("/api/v1/submissions", { params: { query: filters } })),
    refetchInterval: live ? LIVE_MS : false,
    placeholderData: (previous) => previous,
  });
}

export function useSubmission(id: string) {
  return useQuery({
    queryKey: ["submission", id],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/submissions/{submission_id}", { params: { path: { submission_id: id } } })),
    // Poll until the verdict is in the ledger; after that nothing about it changes.
    refetchInterval: (query) => (query.state.data?.status === "recorded" ? false : LIVE_MS),
  });
}

export function useSummary() {
  return useQuery({
    queryKey: ["stats-summary"],
    queryFn: async () => unwrap(await api.GET("/api/v1/stats/summary")),
    refetchInterval: LIVE_MS * 2,
  });
}

export function useWorkers(enabled: boolean) {
  return useQuery({
    queryKey: ["workers"],
    queryFn: async () => unwrap(await api.GET("/api/v1/workers")),
    refetchInterval: LIVE_MS * 3,
    enabled,
  });
}

export function useDaily(days: number) {
  return useQuery({
    queryKey: ["daily", days],
    queryFn: async () => unwrap(await api.GET("/api/v1/analytics/daily", { params: { query: { days } } })),
    refetchInterval: LIVE_MS * 5,
  });
}

export function useTasks() {
  return useQuery({
    queryKey: ["tasks"],
    queryFn: async () => unwrap(await api.GET("/api/v1/tasks")),
    staleTime: 60_000,
  });
}

export function useHospitals() {
  return useQuery({
    queryKey: ["hospitals"],
    queryFn: async () => unwrap(await api.GET("/api/v1/hospitals")),
    refetchInterval: LIVE_MS * 5,
  });
}
