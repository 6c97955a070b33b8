"""The code's identity (version and git commit) in every output that carries provenance."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from riskcalc import _gitcommit, _provenance
from riskcalc._cli import main
from riskcalc._provenance import code_commit, code_identity
from riskcalc._version import __version__

ROOT = Path(__file__).resolve().parents[1]
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="no git command to check against")


def _git(*args, cwd=ROOT) -> str:
    return subprocess.run(
        [GIT, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@needs_git
def test_the_commit_is_read_from_the_checkout():
    if not (ROOT / ".git").exists():
        pytest.skip("not run from a checkout")
    head = _git("rev-parse", "HEAD")
    assert _gitcommit.checkout_commit(ROOT) == head
    assert code_commit().split("-")[0] == head
    assert code_identity() == f"{__version__} (commit {head[:12]}" + (
        ", modified)" if code_commit().endswith("-modified") else ")"
    )


@needs_git
def test_index_entries_are_git_ls_files():
    gitdir = _gitcommit.git_dir(ROOT)
    if gitdir is None:
        pytest.skip("not run from a checkout")
    entries = _gitcommit._index_entries(gitdir)
    staged = _git("ls-files", "--stage").splitlines()
    assert entries == {line.split("\t", 1)[1]: line.split()[1] for line in staged}


@needs_git
def test_modified_code_is_told_by_content(tmp_path):
    repo = tmp_path / "repo"
    (repo / "riskcalc").mkdir(parents=True)
    (repo / "riskcalc" / "a.py").write_text("x = 1\n")
    (repo / "README").write_text("docs\n")
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c", cwd=repo)
    head = _git("rev-parse", "HEAD", cwd=repo)
    assert _gitcommit.checkout_commit(repo) == head and _gitcommit.modified(repo) is False
    assert _provenance._find_commit(repo) == head
    (repo / "README").write_text("other docs\n")  # not code: the figures are the same
    assert _gitcommit.modified(repo) is False
    (repo / "riskcalc" / "a.py").write_text("x = 2\n")
    assert (
        _gitcommit.modified(repo) is True and _provenance._find_commit(repo) == head + "-modified"
    )
    (repo / "riskcalc" / "a.py").write_text("x = 1\n")  # the same content again: clean
    assert _gitcommit.modified(repo) is False
    (repo / "riskcalc" / "new.py").write_text("")
    assert _gitcommit.modified(repo) is True
    _git("checkout", "-q", "--detach", cwd=repo)
    _git("pack-refs", "--all", cwd=repo)
    assert _gitcommit.checkout_commit(repo) == head


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    assert _gitcommit.checkout_commit(tmp_path) is None
    assert _provenance._find_commit(tmp_path) == "unknown"
    prov = {"riskcalc_version": "0.4.0", "riskcalc_commit": "unknown"}
    assert code_identity(prov) == "0.4.0 (commit unknown)"


def test_every_output_kind_names_the_code(tmp_path, capsys):
    """manifest.json, the JSON, Markdown and LaTeX tables, the HTML report (provenance table,
    footer, citation sentence), the charts' source line and the text outputs."""
    identity, commit = code_identity(), code_commit()
    out = tmp_path / "t"
    assert main(["tiers", "--pupils", "300", "--out", str(out), "--no-what-if"]) == 0
    assert json.loads((out / "manifest.json").read_text())["riskcalc_commit"] == commit
    prov = json.loads((out / "tier_table.json").read_text())["provenance"]
    assert prov["riskcalc_commit"] == commit and prov["riskcalc_version"] == __version__
    assert f"riskcalc {identity}, tier_risk_table" in (out / "tier_table.md").read_text()
    assert identity in (out / "tier_table.tex").read_text()
    html = (out / "report.html").read_text()
    cite = html.split('id="cite"', 1)[1].split("</div>", 1)[0]
    assert f"riskcalc {identity}" in cite and commit in html
    short = commit.split("-")[0][:12]
    assert f"riskcalc commit {short}" in (out / "chart_tiers.svg").read_text()
    capsys.readouterr()
    assert main(["tiers", "--pupils", "300", "--format", "markdown", "--no-what-if"]) == 0
    assert f"riskcalc {identity}" in capsys.readouterr().out
    table = tmp_path / "t.csv"
    table.write_text("sex,year\nF,1\nM,2\nF,1\n")
    assert main(["analyse", str(table), "--qi", "sex,year", "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith(f"riskcalc {identity} - analyse t.csv")


def test_an_installed_wheel_names_the_commit_it_was_built_from(tmp_path):
    """``python -m build --wheel`` records the checkout's commit in riskcalc/_commit.py, which
    the installed code prefers (there is no .git beside it)."""
    pytest.importorskip("build")
    if _gitcommit.checkout_commit(ROOT) is None:
        pytest.skip("not run from a checkout")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.skip("the wheel could not be built here: " + proc.stderr[-300:])
    (wheel,) = (tmp_path / "dist").glob("riskcalc_sdc-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    assert (site / "riskcalc" / "_commit.py").is_file()
    got = subprocess.run(
        [
            sys.executable,
            "-c",
            "from riskcalc._provenance import code_commit; print(code_commit())",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
    ).stdout.strip()
    assert got == code_commit()
