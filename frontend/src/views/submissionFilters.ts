// The submissions table's state as URL search parameters (so a filtered, sorted page is a link).
import type { SubmissionFilters } from "../api/queries";

export const PAGE_SIZE = 25;
export const SORTABLE = new Set(["created_at", "round", "hospital_id"]);

type Sort = NonNullable<SubmissionFilters["sort"]>;

export function sortParam(column: string, desc: boolean): Sort {
  return `${desc ? "-" : ""}${column}` as Sort;
}

/** Read the filters from the URL, dropping anything the API would refuse. */
export function filtersFromParams(params: URLSearchParams): SubmissionFilters {
  const filters: SubmissionFilters = { limit: PAGE_SIZE };
  for (const key of ["hospital", "task", "verdict", "status"] as const) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  const round = Number(params.get("round"));
  if (Number.isInteger(round) && round >= 1) filters.round = round;
  const offset = Number(params.get("offset"));
  if (Number.isInteger(offset) && offset > 0) filters.offset = offset;
  const sort = params.get("sort");
  if (sort && SORTABLE.has(sort.replace(/^-/, ""))) filters.sort = sort as Sort;
  return filters;
}
