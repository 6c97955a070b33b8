"""The main jobs' structure (riskcalc.release.job): typed options and sections, the provenance
complete when the table is built, one encoding per extract."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter

import pytest

import synthetic
from riskcalc.release import job, tables


def test_tiers_options_are_frozen_and_name_their_fields():
    options = job.TiersOptions(1_000, 3, what_if=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.n_pupils = 5  # type: ignore[misc]
    with pytest.raises(TypeError, match="history_size"):
        job.tiers_job(100, 1, history_size=10)
    from riskcalc.release import attack, history

    assert options.history_size == history.HISTORY_PUPILS
    assert options.attack_size == attack.ATTACK_PUPILS
    assert job.TiersOptions(10, history_pupils=7, attack_pupils=9).history_size == 7


def test_tiers_provenance_is_complete_when_the_table_is_built(monkeypatch):
    """The table's provenance is built before the table and passed in: what the job returns
    is what the table held when it was made (no entry added afterwards)."""
    made = []
    build = tables.tier_risk_table

    def spy(*args, **kwargs):
        table = build(*args, **kwargs)
        made.append(copy.deepcopy(table.provenance))
        return table

    monkeypatch.setattr(tables, "tier_risk_table", spy)
    result = job.tiers_job(1_200, 4, target_k=2, history_pupils=1_500)
    prov = result.table.provenance
    assert {"what_if_coarsening", "smallest_coarsening", "history"} <= set(prov)
    assert made[0] == prov  # (the what-if comparison builds its own tables after it)
    assert prov["history"] == result.history.provenance()
    assert prov["smallest_coarsening"]["coarsening"] == result.coarsening.coarsening
    assert set(result.files()) >= {"what_if.csv", "smallest_coarsening.csv", "history.csv"}


def test_report_job_encodes_each_extract_once(tmp_path, monkeypatch):
    """Every section of ``report`` (the tier table, the lattice, the staircase) reads one
    encoding of each extract: no column is encoded twice."""
    from riskcalc._core import encoding

    cohort = synthetic.generate_cohort(2_000, rng=5)
    synthetic.tier_extract(cohort, 1).to_csv(tmp_path / "tier1.csv", index=False)
    synthetic.tier_extract(cohort, 4).to_csv(tmp_path / "tier4.csv", index=False)
    calls: Counter = Counter()
    original = encoding.encode_series

    def counted(series, name):
        calls[name] += 1
        return original(series, name)

    monkeypatch.setattr(encoding, "encode_series", counted)
    result = job.report_job(tmp_path)
    assert result.html is not None and len(result.table.records)
    assert calls and max(calls.values()) <= 2, calls  # one encoding per extract: 2 extracts
    assert calls["sex"] == 2 and calls["date_of_birth"] == 1, calls  # tier 4 has no birth date
