"""Record parsing: the direct fill builds exactly what protobuf's ``ParseDict`` builds, or
steps aside; short enum names and bare NaN reach the service's own checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.api import RPCS, Rpc
from mechsolve.batch.records import Defaults, GameFiles, fill, parse
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import mediators_pb2 as pb

SCALARS = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["MEDIATOR_KIND_PUNISHING", "WELFARE_KIND_NASH", "NaN", "3"]),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["kind", "beta"]), inner)
    ),
    max_leaves=8,
)
REQUESTS = [r.request for r in RPCS if isinstance(r, Rpc)]


@settings(max_examples=400)
@given(request=st.sampled_from(REQUESTS), data=st.data())
def test_fill_builds_what_parse_dict_builds_or_steps_aside(request: Any, data: Any) -> None:
    names = list(request.DESCRIPTOR.fields_by_name)
    record = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=4))
    filled = request()
    if not fill(filled, record):
        return
    assert filled == json_format.ParseDict(record, request())


def test_fill_takes_the_common_record() -> None:
    record = {
        "actions": [0, 2, 1],
        "delegate": [True, False, True],
        "mediator": "MEDIATOR_KIND_PUNISHING",
        "welfare": {"kind": "WELFARE_KIND_EGALITARIAN"},
    }
    msg = pb.MediateRequest()
    assert fill(msg, record)
    assert msg == json_format.ParseDict(record, pb.MediateRequest())


def test_short_enum_names_and_bare_nan(tmp_path: Path) -> None:
    games = GameFiles(tmp_path)
    line = (
        b'{"rpc": "Mediate", "game": {"payoffs": {"shape": [2, 1, 1], "values": [NaN, 1]}},'
        b' "actions": [0, 0], "delegate": [true, true], "mediator": "punishing",'
        b' "method": "milp", "welfare": {"kind": "nash"}}'
    )
    rec = parse(0, line, Defaults(), games)
    assert rec.status == "OK", rec.error
    assert rec.request is not None
    assert rec.request.mediator == pb.MEDIATOR_KIND_PUNISHING
    assert rec.request.method == pb.MEDIATOR_METHOD_MILP
    assert rec.request.welfare.kind == cpb.WELFARE_KIND_NASH
    assert str(rec.request.game.payoffs.values[0]) == "nan"  # the solver refuses it, by name


@settings(max_examples=200)
@given(
    shape=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=4),
    data=st.data(),
)
def test_nested_list_tensors_are_their_c_order_shape_and_values(
    shape: list[int], data: Any
) -> None:
    """A tensor written as a nested list parses to what numpy's C-order flatten gives."""
    import numpy as np

    size = int(np.prod(shape))
    flat = data.draw(st.lists(st.integers(-9, 9), min_size=size, max_size=size))
    nested = np.array(flat, dtype=float).reshape(shape).tolist()
    line = {"rpc": "SelectPolicies", "values": nested, "budget": 1}
    rec = parse(0, line, Defaults(), GameFiles(Path(".")))
    assert rec.status == "OK", rec.error
    assert rec.request is not None
    expected_shape = list(np.asarray(nested, dtype=float).shape)
    assert list(rec.request.values.shape) == expected_shape
    assert list(rec.request.values.values) == flat


def test_ragged_nested_list_tensors_are_refused_naming_the_field() -> None:
    for ragged, what in (
        ([[1, 2], [3]], "rows of different lengths"),
        ([[1, [2]], [3, 4]], "rows of different depths"),
    ):
        line = {"rpc": "SelectPolicies", "values": ragged, "budget": 1}
        rec = parse(0, line, Defaults(), GameFiles(Path(".")))
        assert rec.status == "INVALID_ARGUMENT"
        assert f"`values` is a nested list with {what}" in (rec.error or "")
    # repeated tensors (an audit's tables) take nested lists element by element
    from mechsolve.codec.values import expand_short_forms
    from mechsolve.v1 import auctions_pb2 as apb

    descriptor = apb.InterimAuctionResult.DESCRIPTOR
    out = expand_short_forms(descriptor, {"allocation": [[[1, 0]], {"shape": [1], "values": [2]}]})
    assert out["allocation"] == [{"shape": [1, 2], "values": [1, 0]}, {"shape": [1], "values": [2]}]


def test_int_and_bool_tensors_take_nested_lists_too() -> None:
    line = {
        "rpc": "MediateBatch",
        "game_file": "fixture:prisoners_dilemma",
        "actions": [[0, 1], [1, 0]],
        "delegate": [[True, True], [False, True]],
    }
    rec = parse(0, line, Defaults(), GameFiles(Path(".")))
    assert rec.status == "OK", rec.error
    assert rec.request is not None
    assert list(rec.request.actions.shape) == [2, 2]
    assert list(rec.request.delegate.values) == [True, True, False, True]
