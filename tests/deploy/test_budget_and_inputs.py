"""Fast checks of deploy's parts that need no board: budget messages, bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hilnas.board.profiles import load_profile
from hilnas.cli.deploy_cmds import parse_predicted
from hilnas.deploy import BudgetExceededError, model_figures, refuse_if_over
from hilnas.deploy.firmware import read_sections
from hilnas.deploy.pipeline import DeployOptions, compare_predictions, deploy_route, resolve_board
from hilnas.errors import BoardError, ConfigError


def test_refusal_names_the_figure_the_need_the_budget_and_the_overshoot() -> None:
    budget = load_profile("nrf52840-dk").budget()
    figures = model_figures(budget, budget.model_flash_bytes + 267_911, 1000, 10, 20,
                            stream=False)
    with pytest.raises(BudgetExceededError) as err:
        refuse_if_over("nrf52840-dk", figures)
    need = budget.model_flash_bytes + 267_911
    assert (f"model needs {need:,} B of flash, the board has {budget.model_flash_bytes:,} B "
            "for a model: 267,911 B over") in str(err.value)
    assert [f.name for f in err.value.figures] == ["model flash"]


def test_stream_deploys_are_checked_against_the_ram_slot_and_all_overshoots_listed() -> None:
    budget = load_profile("mps2-an386").budget()
    figures = model_figures(budget, budget.model_slot_bytes + 1, budget.arena_bytes + 2,
                            budget.max_ops + 3, budget.max_tensors, stream=True)
    with pytest.raises(BudgetExceededError) as err:
        refuse_if_over("mps2-an386", figures)
    assert [f.name for f in err.value.figures] == ["model slot", "arena", "ops"]
    assert "B of RAM model slot" in str(err.value) and ": 3 ops over" in str(err.value)


def test_fitting_model_passes() -> None:
    budget = load_profile("mps2-an386").budget()
    refuse_if_over("mps2-an386", model_figures(budget, 1000, 1000, 10, 10, stream=False))


def test_predictions_pair_with_measurements_and_unknown_keys_become_notes() -> None:
    comps, notes = compare_predictions({"latency": 110.0, "flash_bytes": 90, "speed": 3},
                                       "LUT x", {"latency": 100.0, "flash_bytes": 100}, "cycles")
    assert [(c.figure, c.unit, round(c.error or 0, 3)) for c in comps] == [
        ("latency (board unit)", "cycles", 0.1), ("flash image", "B", -0.1)]
    assert len(notes) == 1 and "'speed'" in notes[0]


@pytest.mark.parametrize("text, match", [
    ("nope.json", "neither a file nor inline JSON"),
    ("{bad", "not valid JSON"),
    ("[1, 2]", "neither a file"),
])
def test_bad_predicted_argument_is_a_clear_error(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_predicted(text)


def test_predicted_from_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"latency": 5}')
    assert parse_predicted(str(path)) == {"latency": 5}
    assert parse_predicted('{"n_ops": 3}') == {"n_ops": 3}


def test_not_an_elf_is_named(tmp_path: Path) -> None:
    path = tmp_path / "fw.elf"
    path.write_bytes(b"MZ" + bytes(100))
    with pytest.raises(BoardError, match="is not an ELF"):
        read_sections(path)


def test_unknown_board_and_bad_profile_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown board 'nope'"):
        resolve_board("nope")
    bad = tmp_path / "mps2-an386.yaml"
    bad.write_text("name: mps2-an386\n")
    with pytest.raises(ConfigError, match=r"mps2-an386\.yaml"):
        resolve_board(bad)


@pytest.mark.parametrize("option, value", [("test_images", 0), ("runs", 0),
                                           ("finetune_epochs", -1)])
def test_bad_options_fail_before_any_work(tmp_path: Path, option: str, value: int) -> None:
    from hilnas.deploy import deploy

    with pytest.raises(ConfigError, match="must be at least"):
        deploy(tmp_path / "missing.json", tmp_path / "missing.pt", "mps2-an386",
               tmp_path / "out", DeployOptions(**{option: value}))
    assert not (tmp_path / "out").exists()


def test_deploy_converts_with_the_luts_route_so_its_prediction_holds() -> None:
    from hilnas.lut import load_table

    lut = Path(__file__).resolve().parents[2] / "lut" / "mps2-an386" / "hybrid.json"
    assert deploy_route(DeployOptions(lut=lut)) == load_table(lut).route == "litert"
    assert deploy_route(DeployOptions(lut=lut, route="onnx2tf")) == "onnx2tf"
    assert deploy_route(DeployOptions()) == "auto"
