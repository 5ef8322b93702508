"""`/outputs`: which runs published a URL (the `tracker outputs info` query) and
multi-word search across every run's outputs (a query is required: there can be
millions of rows)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tracker.api import errors, paths, schemas, views
from tracker.api.deps import COUNT_AHEAD, MAX_LIMIT, Limit, Offset, SessionDep, SettingsDep
from tracker.store import lookup, runs

router = APIRouter(prefix=paths.API, tags=["outputs"])


@router.get(paths.OUTPUTS_LOOKUP, response_model=schemas.LookupResult, responses=errors.responses(422))
def lookup_url(
    session: SessionDep,
    settings: SettingsDep,
    url: Annotated[str, Query(min_length=1, description="a URL or prefix, or part of one (any case)")],
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT, description="most runs to return")] = 100,
) -> schemas.LookupResult:
    """Runs whose outputs contain `url` as a case-insensitive substring (or whose
    outputDir holds it), newest first."""
    with errors.bad_parameters():
        found = lookup.lookup_runs_by_url(session, text=url, limit=limit)
    summaries = runs.outputs_summaries(session, run_ids=[r.id for r in found])
    now = views.utcnow()
    return schemas.LookupResult(
        url=url, items=[views.run_summary(r, summaries[r.id], settings.prices, now) for r in found]
    )


@router.get(paths.OUTPUTS_SEARCH, response_model=schemas.OutputMatchPage, responses=errors.responses(422))
def search(
    session: SessionDep,
    q: Annotated[
        str, Query(min_length=1, pattern=r"\S", description="words that must all occur in the URL (any case)")
    ],
    limit: Limit = 100,
    offset: Offset = 0,
) -> schemas.OutputMatchPage:
    """Output rows of every run whose URL contains every word of `q`, by URL. The
    matches are counted up to 100 past the page: `totalIsLowerBound` says there
    are at least `total` (there can be millions)."""
    cap = offset + limit + COUNT_AHEAD
    with errors.bad_parameters():
        matches, total = lookup.search_outputs(session, words=q.split(), limit=limit, offset=offset, count_limit=cap)
    return schemas.OutputMatchPage(
        items=[views.output_match(m) for m in matches],
        total=total,
        total_is_lower_bound=total >= cap,
        limit=limit,
        offset=offset,
    )
