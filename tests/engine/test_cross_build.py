"""The engine cross-compiles (-Wall -Wextra -Werror) for all five Cortex-M
cores at -Os and -O2 through the CMake toolchain file."""

from __future__ import annotations

import shutil

import pytest
from hilnas.engine import cross

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def builds() -> list[cross.CrossBuild]:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc missing: .ci/bootstrap.sh installs it")
    return cross.build_all()


def test_all_cores_and_opt_levels_build(builds) -> None:
    assert {(b.core, b.opt) for b in builds} == {(c, o) for c in cross.CORES
                                                 for o in cross.OPT_LEVELS}
    failed = [f"{b.core} -{b.opt}:\n{b.log[-1500:]}" for b in builds if not b.ok]
    assert not failed, "\n".join(failed)


def test_code_size_is_reported(builds) -> None:
    m4 = next(b for b in builds if b.core == "cortex-m4" and b.opt == "Os")
    size = cross.text_size(m4.library)
    assert 5_000 < size < 200_000, size


def test_m0plus_has_no_fpu_instructions(builds) -> None:
    """The M0+ build must be soft-float Thumb-1: no VFP registers anywhere."""
    import subprocess

    m0 = next(b for b in builds if b.core == "cortex-m0plus" and b.opt == "Os")
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(m0.library)], capture_output=True,
                         text=True).stdout
    assert "vmov" not in dis and "vldr" not in dis
