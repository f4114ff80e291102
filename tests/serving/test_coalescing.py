"""Coalescing: concurrent requests for one model version share a Triton call, each gets its own rows' scores."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from mlops_assets.core import domain as d
from mlops_assets.core.artifacts import CHURN_MODEL
from mlops_assets.serving.backends import ModelServerError, TritonScorer
from mlops_assets.serving.coalescing import CoalescingScorer


def _matrices(serving, sizes: list[int]) -> list[np.ndarray]:
    ids = serving.entity_ids
    out, start = [], 0
    for size in sizes:
        out.append(d.encode(serving.stack.gateway.features.rows(ids[start : start + size])))
        start += size
    return out


def _champion(serving) -> str:
    return serving.stack.gateway.routing.current(refresh=True).champion_version


async def _alone(url: str, version: str, matrices: list[np.ndarray]) -> list[np.ndarray]:
    scorer = TritonScorer(url)
    try:
        return [await scorer.score(CHURN_MODEL, version, m) for m in matrices]
    finally:
        await scorer.close()


async def _together(scorer: CoalescingScorer, version: str, matrices: list[np.ndarray]) -> list:
    try:
        return await asyncio.gather(*(scorer.score(CHURN_MODEL, version, m) for m in matrices), return_exceptions=True)
    finally:
        await scorer.close()


def test_concurrent_requests_share_calls_and_each_gets_its_own_rows_scores(serving):
    url, version = serving.stack.triton.grpc_url, _champion(serving)
    matrices = _matrices(serving, [1, 3, 1, 5, 2, 1, 4, 1])
    expected = asyncio.run(_alone(url, version, matrices))
    scorer = CoalescingScorer(TritonScorer(url))
    got = asyncio.run(_together(scorer, version, matrices))
    # the first request is sent at once; the seven that arrive while it is in flight go in one call
    assert scorer.calls == 2
    for want, answer in zip(expected, got, strict=True):
        np.testing.assert_allclose(answer, want, rtol=1e-6)


def test_a_coalesced_call_holds_at_most_max_rows(serving):
    url, version = serving.stack.triton.grpc_url, _champion(serving)
    matrices = _matrices(serving, [1, 3, 3, 2])
    scorer = CoalescingScorer(TritonScorer(url), max_rows=4)
    got = asyncio.run(_together(scorer, version, matrices))
    # [1] alone, then [3] (3 + 3 > 4), then [3] and [2] would be 5: each waits for its own call
    assert scorer.calls == 4
    assert [len(scores) for scores in got] == [1, 3, 3, 2]


def test_sequential_requests_are_each_sent_at_once(serving):
    url, version = serving.stack.triton.grpc_url, _champion(serving)
    matrices = _matrices(serving, [1, 2, 1])
    scorer = CoalescingScorer(TritonScorer(url))

    async def one_by_one() -> None:
        for m in matrices:
            await scorer.score(CHURN_MODEL, version, m)

    asyncio.run(one_by_one())
    assert scorer.calls == len(matrices)


def test_a_failed_call_fails_each_of_its_requests_and_the_lane_serves_the_next(serving):
    url, version = serving.stack.triton.grpc_url, _champion(serving)
    matrices = _matrices(serving, [1, 2, 1])
    scorer = CoalescingScorer(TritonScorer(url))

    async def fail_then_serve() -> tuple[list, list]:
        try:
            failed = await asyncio.gather(
                *(scorer.score(CHURN_MODEL, "999", m) for m in matrices), return_exceptions=True
            )
            answered = await asyncio.gather(*(scorer.score(CHURN_MODEL, version, m) for m in matrices))
            return failed, answered
        finally:
            await scorer.close()

    # given a version Triton does not have, every request of the coalesced call gets the model error
    failed, answered = asyncio.run(fail_then_serve())
    assert all(isinstance(answer, ModelServerError) for answer in failed)
    assert "churn v999" in str(failed[1])
    # and neither lane is left busy: the same loop's next requests are answered
    assert [len(a) for a in answered] == [1, 2, 1]
    with pytest.raises(ModelServerError):
        asyncio.run(_alone(url, "999", matrices[:1]))
