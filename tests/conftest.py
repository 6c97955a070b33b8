"""Shared fixtures: paths to the oracle tables and small hand-built frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
ORACLES = DATA / "oracles"


def oracle(name: str) -> Path:
    """Path of an oracle file, e.g. ``oracle("01_sdcpractice_tab41_individual_risk/input.csv")``."""
    path = ORACLES / name
    assert path.exists(), path
    return path


@pytest.fixture
def practice_guide() -> pd.DataFrame:
    """SDC Practice Guide table 4.1 (ten records; quasi-identifiers Residence..Labor)."""
    return pd.read_csv(oracle("01_sdcpractice_tab41_individual_risk/input.csv"))


PRACTICE_QI = ["Residence", "Gender", "Education", "Labor"]

ARX_QI = [
    "sex", "age", "race", "marital-status", "education", "native-country",
    "workclass", "occupation", "salary-class",
]


@pytest.fixture(scope="session")
def arx_adult() -> pd.DataFrame:
    """ARX's adult data, every column read as a string label."""
    return pd.read_csv(oracle("data/arx_adult.csv.gz"), sep=";", dtype=str, keep_default_na=False)


@pytest.fixture(autouse=True)
def _small_history_panel(monkeypatch):
    """The main job's school-history section on a 5,000-pupil panel in tests (50,000 by
    default), so each ``riskcalc tiers --out`` run in the suite stays quick."""
    import riskcalc.release.history as history

    monkeypatch.setattr(history, "HISTORY_PUPILS", 5_000)
