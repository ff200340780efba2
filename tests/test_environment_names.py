"""Naming environments (kg.environments), the one implementation the site, the CLI and the API
share; and a claim's verdict in one environment from several checks (kg.rows.ClaimVerdict)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kg import api
from kg.environments import collected_row, cpu_name, environment_order, name_environments
from kg.load import load_corpus
from kg.model import MAIN_CHECK, Check, CheckType, Combine, Kind, Label, Rule
from kg.records import list_records
from kg.rows import Claim, ClaimVerdict, Environment, Run

REPO = Path(__file__).resolve().parent.parent
BASE = Environment(id="x86-2core-cpu-aaaaaa", label="", cpu="AMD EPYC", cores=2, mem=23.4,
                   os="Linux 6.1", python="3.11.7", torch="2.13.0+cpu", tf="2.21.0",
                   keras="3.15.1", numpy="2.4.6")  # fmt: skip


def env(suffix: str, **fields: object) -> Environment:
    return replace(BASE, id=f"x86-2core-cpu-{suffix}", **fields)


def test_names_tell_machines_apart_by_cpu_model_then_versions():
    names = name_environments([env("a1"), env("b2", cpu="Intel Xeon")])
    assert names["x86-2core-cpu-a1"].short == "2-core AMD EPYC"
    assert names["x86-2core-cpu-b2"].short == "2-core Intel Xeon"
    assert names["x86-2core-cpu-b2"].display == (
        "2-core Intel Xeon, torch 2.13.0 / TF 2.21.0 / Keras 3.15.1"
    )


def test_names_tell_one_cpu_model_with_and_without_avx512_apart():
    # the same "AMD EPYC" with and without AVX-512 timed one training cell 2.6x and 4.4x apart
    names = name_environments([env("a1"), env("b2", isa="avx512")])
    assert names["x86-2core-cpu-a1"].short == "2-core AMD EPYC"
    assert names["x86-2core-cpu-b2"].short == "2-core AMD EPYC with AVX-512"
    assert names["x86-2core-cpu-b2"].display.startswith("2-core AMD EPYC with AVX-512, torch")


def test_cpu_models_are_named_without_trademarks_and_filler():
    names = name_environments([env("a1"), env("b2", cpu="Intel(R) Xeon(R) Processor")])
    assert names["x86-2core-cpu-b2"].short == "2-core Intel Xeon"
    assert cpu_name("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz") == "Intel Core i7-8700 CPU @ 3.20GHz"
    assert cpu_name(None) == "CPU" and cpu_name("AMD EPYC") == "AMD EPYC"


def test_names_on_one_machine_are_the_versions_that_differ():
    names = name_environments([env("a1"), env("b2", tf="2.15.1", keras="2.15.0"),
                               env("c3", jax="0.10.2")])  # fmt: skip
    assert names["x86-2core-cpu-a1"].short == "TF 2.21.0 · Keras 3.15.1"
    assert names["x86-2core-cpu-b2"].short == "TF 2.15.1 · Keras 2.15.0"
    assert names["x86-2core-cpu-c3"].short == "TF 2.21.0 · Keras 3.15.1 · JAX 0.10.2"
    assert all("x86" not in n.display for n in names.values())


def test_names_use_numpy_python_os_or_memory_only_when_nothing_else_differs():
    names = name_environments([env("a1"), env("b2", numpy="1.26.4")])
    assert names["x86-2core-cpu-a1"].short == "numpy 2.4.6"
    assert names["x86-2core-cpu-b2"].display.endswith("Keras 3.15.1 · numpy 1.26.4")


def test_names_fall_back_to_the_id_hash_when_nothing_recorded_differs():
    names = name_environments([env("aaa111"), env("bbb222")])
    assert names["x86-2core-cpu-aaa111"].short == "2-core AMD EPYC [aaa111]"
    assert len({n.display for n in names.values()}) == 2


def test_a_lone_environment_is_named_by_its_machine():
    [name] = name_environments([env("a1")]).values()
    assert (name.short, name.machine) == ("2-core AMD EPYC", "2-core AMD EPYC")


def test_name_marks_this_machine_only_for_its_own_id():
    names = name_environments([env("a1"), env("b2", tf="2.15.1")])
    a = names["x86-2core-cpu-a1"]
    assert a.label("x86-2core-cpu-a1") == "TF 2.21.0 (this machine)"
    assert a.label("x86-2core-cpu-b2") == a.label() == "TF 2.21.0"
    assert a.full("x86-2core-cpu-a1").endswith("TF 2.21.0 / Keras 3.15.1 (this machine)")


def test_environment_order_puts_the_first_then_natural_order():
    names = name_environments(
        [env("a1", tf="2.21.0"), env("b2", tf="2.9.0"), env("c3", tf="2.15.1")]
    )
    assert environment_order(names) == ["x86-2core-cpu-b2", "x86-2core-cpu-c3", "x86-2core-cpu-a1"]
    assert environment_order(names, "x86-2core-cpu-a1")[0] == "x86-2core-cpu-a1"


@pytest.fixture(scope="module")
def committed():
    return load_corpus(REPO, use_cache=False)


def test_collected_row_is_the_row_the_graph_gives_for_every_committed_record(committed):
    graph = {e.id: e for e in api.environments(committed)}
    found, _ = list_records(REPO / "data" / "results")
    assert found
    for _, r in found:
        row = collected_row(r["environment_id"], r["environment"])
        want = graph[r["environment_id"]]
        assert replace(row, label=want.label, runs=want.runs) == want, r["environment_id"]


def test_graph_rows_and_runs_carry_the_shared_name(committed):
    names = api.environment_names(committed)
    assert len(names) >= 2
    for e in api.environments(committed):
        assert e.label == names[e.id].display and "x86 CPU" not in e.label
    for r in api.runs(committed):
        assert r.environment_label == names[r.environment].display


def run(check_id: str, verdict: str, scope: str | None = None, env_id: str = "e") -> Run:
    return Run(run=f"r-{check_id}-{verdict}", claim_id="c", environment=env_id,
               environment_label="", started=None, ended=None, status="ok",
               verdict=Label(verdict), explanation=None, record=None, code_hash=None,
               budget_s=None, benchmark=None, deprecated=None, successor=None,
               check_id=check_id, scope=scope)  # fmt: skip


def claim(*check_ids: str, how: Combine = Combine.ALL) -> Claim:
    rule = Rule.from_dict({"metric": "succeeds", "better": "higher", "threshold": 1.0})
    checks = [Check("c", Kind.CAPABILITY, "b", "m", CheckType.PROBE, {}, rule, check_id=k)
              for k in check_ids]  # fmt: skip
    return Claim(id="c", iri="", kind=Kind.CAPABILITY, category="x", text="", favours=None,
                 rests_on=None, not_checkable_because=None, appearances=[], derived_from=[],
                 conditions={}, checks=checks, contradicts=[], combine=how)  # fmt: skip


def test_claim_verdict_of_one_check_is_its_newest_run():
    v = ClaimVerdict.of(claim(MAIN_CHECK), "e", [run("main", "holds"), run("main", "inconclusive")])
    assert v is not None and v.verdict == Label.HOLDS and v.newest.run == "r-main-holds"
    assert ClaimVerdict.of(claim(MAIN_CHECK), "e", []) is None


def test_claim_verdict_combines_the_newest_run_of_each_check():
    both = [run("xla", "does-not-hold"), run("main", "holds"), run("xla", "holds")]
    v = ClaimVerdict.of(claim("main", "xla"), "e", both)
    assert v is not None and v.verdict == Label.DOES_NOT_HOLD and set(v.runs) == {"main", "xla"}
    v_any = ClaimVerdict.of(claim("main", "xla", how=Combine.ANY), "e", both)
    assert v_any is not None and v_any.verdict == Label.HOLDS


def test_claim_verdict_with_a_check_not_run_there_stays_open():
    v = ClaimVerdict.of(claim("main", "xla"), "e", [run("main", "holds")])
    assert v is not None and v.verdict == Label.INCONCLUSIVE


def test_claim_verdict_is_outside_scope_only_when_every_run_was():
    partly = [run("main", "holds", "outside"), run("xla", "holds")]
    v = ClaimVerdict.of(claim("main", "xla"), "e", partly)
    assert v is not None and not v.outside_scope and v.verdict == Label.HOLDS
    wholly = [run("main", "holds", "outside"), run("xla", "holds", "outside")]
    v = ClaimVerdict.of(claim("main", "xla"), "e", wholly)
    assert v is not None and v.outside_scope
