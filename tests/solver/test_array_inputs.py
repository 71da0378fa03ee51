"""Arrays from callers and files: ``float_array`` takes real numbers only and says so on one
line; ``read_arrays`` checks declared sizes before reading and turns every failure into an
input error on ``path``."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mechsolve.solver.core.array_files import read_arrays
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.validation import float_array


@pytest.mark.parametrize(
    "value",
    [[Decimal("1.5"), 2], [Fraction(1, 3), True], np.float32(2.5), [np.int8(3), 4.0], 7],
)
def test_real_numbers_of_any_type_are_taken(value: object) -> None:
    got = float_array("f", "x", value)
    np.testing.assert_allclose(got, np.asarray(value, dtype=float))


@pytest.mark.parametrize(
    ("value", "argument", "words"),
    [
        ([10**400, 1], "x", "within float64's range"),
        ([Fraction(10**400)], "x", "within float64's range"),
        (np.array([["a", "b"], ["c", "d"]]), "x", "an array of dtype <U1, shape (2, 2) (strings)"),
        (np.array([1, None], dtype=object), "x[1]", "must be a real number; got None"),
        (np.array({"a": 1}), "x", "(an object)"),
        (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "x", "masked entries"),
        ([1 + 2j], "x", "(complex numbers)"),
    ],
)
def test_what_is_not_a_real_number_is_one_line_naming_the_entry(
    value: object, argument: str, words: str
) -> None:
    with pytest.raises(MechsolveInputError) as err:
        float_array("f", "x", value)
    assert err.value.argument == argument
    assert words in str(err.value)
    assert "\n" not in str(err.value)


class _Holder:
    """Hands out its storage through the array protocol (as a pandas Series may)."""

    def __init__(self) -> None:
        self.storage = np.ones(4)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return self.storage


def test_the_result_never_shares_the_callers_memory() -> None:
    for value in (np.ones(4), np.ones(4, dtype=np.float32), np.ones((2, 3))[:, 1]):
        assert not np.shares_memory(value, float_array("f", "x", value))
    holder = _Holder()
    assert not np.shares_memory(holder.storage, float_array("f", "x", holder))


def test_declared_sizes_are_checked_before_reading(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((4, 5)))
    np.savez_compressed(tmp_path / "v.npz", a=np.zeros(3), big=np.zeros((100, 100)))
    (tmp_path / "v.csv").write_text("1, 2\n" * 300)  # 1,500 bytes > 64 x 19
    for name, what in (("v.npy", "declares 20 values"), ("v.npz", "declares 10000 values in 'big'"),
                       ("v.csv", "bytes, over 64 x max_cells=19")):  # fmt: skip
        with pytest.raises(ProblemTooLargeError, match="`path` ") as err:
            read_arrays("f", tmp_path / name, "values", max_cells=19)
        assert what in str(err.value)
    assert read_arrays("f", tmp_path / "v.npy", "values", max_cells=20)["values"].shape == (4, 5)


def test_broken_files_are_input_errors_on_path(tmp_path: Path) -> None:
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "list.json").write_text(json.dumps([[1, 2]]))
    (tmp_path / "text.npy").write_text("not an array")
    with zipfile.ZipFile(tmp_path / "junk.npz", "w") as z:
        z.writestr("a.npy", b"\x93NUMPY junk")
    header = tmp_path / "truncated.npy"  # declares (10^6, 10^6), holds no data
    with header.open("wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
        )
    for path in tmp_path.iterdir():
        with pytest.raises(MechsolveInputError) as err:
            read_arrays("f", path, "values", max_cells=1 << 22)
        assert err.value.argument == "path", (path.name, err.value)
        assert "\n" not in str(err.value)
