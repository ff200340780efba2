"""Fleet runs: `verify run --all --shard K/N` splits the checks so that the parts together are
`--all`, each claim in exactly one, stable when a claim is added; `verify results merge` copies
other machines' records in, rejecting malformed and conflicting ones, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import run_cli, verify
from recordkit import ENV, minimal_record
from synth import write_corpus

from kg import records
from kg.errors import UsageError
from kg.records import dumps, merge
from verify.run.shard import Shard, part_of

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fleet_root(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("fleet"), claims=120, files=2, seed=3)


def _ids(root: Path, *args: str) -> list[str]:
    # in this process: the shard and kind selection is under test, not the interpreter's start-up
    code, out, err = run_cli(root, "run", *args, "--list")
    assert code == 0, err
    return out.split()


def test_shards_together_are_all_and_each_claim_is_in_one(fleet_root):
    every = _ids(fleet_root, "--all")
    parts = [_ids(fleet_root, "--all", "--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(every) == sorted(i for p in parts for i in p) and len(every) > 30
    assert len(set(parts[0]) | set(parts[1]) | set(parts[2])) == sum(map(len, parts))
    assert all(parts), "every part has work at this size"


def test_shard_list_as_json_keeps_the_order_of_all(fleet_root):
    code, out, _ = run_cli(fleet_root, "run", "--all", "--shard", "2/3", "--list", "--json")
    every = _ids(fleet_root, "--all")
    assert code == 0 and json.loads(out) == [i for i in every if part_of(i, 3) == 2]


def test_shard_is_stable_when_a_claim_is_added():
    ids = [f"claim-{i}" for i in range(500)]
    before = {i: part_of(i, 7) for i in ids}
    after = {i: part_of(i, 7) for i in [*ids, "a-new-claim"]}
    assert all(after[i] == before[i] for i in ids)


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", ""])
def test_shard_refuses_what_is_not_k_of_n(text):
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(text)


def test_shard_option_bad_value_exits_2(fleet_root):
    done = verify(fleet_root, "run", "--all", "--shard", "5/4", "--list")
    assert done.returncode == 2 and "between 1 and N" in done.stderr


def test_kind_selects_the_claims_of_that_kind_and_refuses_an_unknown_one():
    # the real corpus: what scripts/gpu-check.sh runs on a GPU machine
    timed = _ids(REPO, "--all", "--kind", "performance")
    every = _ids(REPO, "--all")
    assert "inference-latency-3x" in timed and "tensorboard-both" not in timed
    assert timed == [i for i in every if i in set(timed)] and len(timed) < len(every)
    both = _ids(REPO, "--all", "--kind", "performance", "--kind", "capability")
    assert set(timed) < set(both) and "tensorboard-both" in both
    done = verify(REPO, "run", "--all", "--kind", "speed", "--list")
    assert done.returncode == 2 and "unknown claim kind 'speed'" in done.stderr


def _machine(base: Path, name: str, count: int, env: str = ENV) -> Path:
    """A results folder as another machine leaves it: `count` valid records."""
    folder = base / name / "data" / "results"
    for n in range(count):
        rid = f"20260101T00000{n}Z-c1-{name}{n:04d}"
        path = folder / env / f"{rid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(minimal_record(record_id=rid, env_id=env)))
    return folder


def test_merge_copies_records_byte_for_byte_and_twice_changes_nothing(tmp_path):
    a, b = _machine(tmp_path, "a", 3), _machine(tmp_path, "b", 2, env="gpu-box-1a2b3c")
    dest = tmp_path / "here" / "results"
    first = merge([a, b], dest)
    assert len(first.copied) == 5 and not first.rejected
    copied = {p.relative_to(dest): p.read_bytes() for p in records.record_files(dest)}
    sources = {p.relative_to(s): p.read_bytes() for s in (a, b) for p in records.record_files(s)}
    assert copied == sources
    again = merge([a, b], dest)
    assert not again.copied and len(again.unchanged) == 5 and not again.rejected
    assert {p.relative_to(dest): p.read_bytes() for p in records.record_files(dest)} == copied


def test_merge_rejects_malformed_and_conflicting_records_and_overwrites_nothing(tmp_path):
    a = _machine(tmp_path, "a", 2)
    dest = tmp_path / "here"
    merge([a], dest)
    kept = {p: p.read_bytes() for p in records.record_files(dest)}
    b = _machine(tmp_path, "b", 0)
    (b / ENV).mkdir(parents=True)
    clash = next(iter(records.record_files(a)))
    changed = minimal_record(record_id=clash.stem, claim_id="c2")
    (b / ENV / clash.name).write_text(dumps(changed))  # same name, other content
    (b / ENV / "20260102T000000Z-c1-broken.json").write_text("{ not json")
    wrong = minimal_record(record_id="not-the-file-name")
    (b / ENV / "20260103T000000Z-c1-misnamed.json").write_text(dumps(wrong))
    report = merge([b], dest)
    assert not report.copied and len(report.rejected) == 3
    messages = " ".join(str(e) for e in report.rejected)
    assert "different record of the same name" in messages and "not valid JSON" in messages
    assert "not the file's name" in messages
    assert {p: p.read_bytes() for p in records.record_files(dest)} == kept


def test_merge_takes_an_environment_folder_too(tmp_path):
    a = _machine(tmp_path, "a", 2)
    report = merge([a / ENV], tmp_path / "here")
    assert [p.parent.name for p in report.copied] == [ENV, ENV]


def test_shard_then_merge_round_trip_holds_every_shard_record(tmp_path):
    """Three machines each write records of their own shard; merging gives one record per claim
    of --all, and a second merge is a no-op (real records, written by the record writer)."""
    ids = [f"claim-{i:03d}" for i in range(60)]
    machines = []
    for k in (1, 2, 3):
        folder = tmp_path / f"m{k}" / "results"
        for cid in (i for i in ids if Shard(k, 3).holds(i)):
            path = records.record_path(folder, f"box-{k}", cid, "2026-01-01T00:00:00Z")
            rec = minimal_record(claim_id=cid, env_id=f"box-{k}", record_id=path.stem)
            records.write_record(rec, path)
        machines.append(folder)
    dest = tmp_path / "here"
    merge(machines, dest)
    found, bad = records.list_records(dest)
    assert not bad and sorted(r["claim_id"] for _, r in found) == ids
    assert not merge(machines, dest).copied


def test_results_merge_command_exit_codes(tmp_path, fleet_root):
    a = _machine(tmp_path, "a", 1)
    dest = tmp_path / "dest"
    ok = verify(fleet_root, "results", "merge", str(a), "--results-dir", str(dest), "--json")
    assert ok.returncode == 0, ok.stderr
    assert len(json.loads(ok.stdout)["copied"]) == 1
    (a / ENV / "20260109T000000Z-c1-bad.json").write_text("[]")
    bad = verify(fleet_root, "results", "merge", str(a), "--results-dir", str(dest))
    assert bad.returncode == 1 and "rejected:" in bad.stderr and "1 already there" in bad.stdout
