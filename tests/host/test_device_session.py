"""A `levelbelt.device.repl.Board` session against MicroPython 1.27 on a pty.

It starts on a clean board (soft reset in the raw REPL, main.py not run), ends by
restarting the app (soft reset from the friendly REPL, main.py run), and turns board
exceptions into one-line errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mpy_board import PtyBoard

from levelbelt.device.errors import BoardCommandError
from levelbelt.device.repl import open_board
from levelbelt.errors import LinkError

COUNTING_MAIN = "f = open('/runs', 'a'); f.write('x'); f.close()\n"


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


def _runs(board: PtyBoard) -> int:
    return int(board.run(
        "try:\n print(len(open('/runs').read()))\nexcept OSError:\n print(0)"
    ))  # fmt: skip


def test_a_session_starts_on_a_soft_reset_board_without_running_main_py(
    board: PtyBoard,
) -> None:
    board.wipe()
    board.run(f"f = open('/main.py', 'w'); f.write({COUNTING_MAIN!r}); f.close(); LEFT = 1")
    with open_board(board.port) as b:
        assert b.exec("print('LEFT' in globals())").strip() == "False"
        assert b.exec("import os; print('runs' in os.listdir('/'))").strip() == "False"


def test_closing_a_session_restarts_the_app_once(board: PtyBoard) -> None:
    board.wipe()
    board.run(f"f = open('/main.py', 'w'); f.write({COUNTING_MAIN!r}); f.close()")
    with open_board(board.port):
        pass
    assert _runs(board) == 1


def test_an_exception_on_the_board_is_one_line_naming_it(board: PtyBoard) -> None:
    with open_board(board.port) as b:
        with pytest.raises(BoardCommandError) as e:
            b.exec("x = 1\nraise OSError(28)")
        assert str(e.value) == "the board raised OSError: 28"
        assert b.exec("print('usable after')").strip() == "usable after"


def test_a_reply_that_is_not_json_is_a_link_error(board: PtyBoard) -> None:
    with open_board(board.port) as b, pytest.raises(LinkError, match="not JSON"):
        b.eval_json("print('hello')")


def test_files_written_through_the_session_read_back_exactly(board: PtyBoard) -> None:
    board.wipe()
    data = bytes(range(256)) * 9  # every byte value, past one 1024-byte chunk
    with open_board(board.port) as b:
        b.write_file("/blob.bin", data)
    got = board.run("import binascii; print(binascii.hexlify(open('/blob.bin', 'rb').read()))")
    assert bytes.fromhex(got.strip()[2:-1]) == data
