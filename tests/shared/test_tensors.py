"""Tests for shared.tensors: the hand-written safetensors parser, writer and hashes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from shared.tensors import (
    TensorFormatError,
    dump_arrays,
    file_sha256,
    load_arrays,
    parse_header,
    tensor_sha256,
)

CAP = 4096


def raw_file(header: object, data: bytes = b"") -> bytes:
    """A safetensors-shaped file with this header (JSON-encoded unless already bytes)."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def f32_entry(shape: list[int], begin: int, end: int) -> dict[str, Any]:
    """A header entry for an F32 tensor."""
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


def code_of(data: bytes, *, cap: int = CAP) -> str:
    """The error code parse_header raises for these bytes."""
    with pytest.raises(TensorFormatError) as info:
        parse_header(data, max_header_bytes=cap)
    return info.value.code


def parse_and_load(data: bytes) -> dict[str, NDArray[Any]]:
    """Parse then decode a file."""
    return load_arrays(data, parse_header(data, max_header_bytes=CAP))


class CanaryExploit:
    """Unpickling this creates a file: a stand-in for a pickle that runs an attacker's code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (str(self.path), "w"))


VALID = dump_arrays({"a": np.arange(4, dtype=np.float32), "b": np.ones((2, 2), np.float32)})


# --- refusing foreign formats -------------------------------------------------------------


def test_exploit_pickle_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(CanaryExploit(canary)))
    assert canary.exists()  # so the refusal tests below guard against something real


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_exploit_pickle_is_refused_without_running_it(tmp_path: Path, protocol: int) -> None:
    canary = tmp_path / "canary"
    payload = pickle.dumps(CanaryExploit(canary), protocol=protocol)
    with pytest.raises(TensorFormatError) as info:
        parse_header(payload, max_header_bytes=CAP)
    assert info.value.code == "pickle_refused"
    assert "never opens pickle" in info.value.message
    assert not canary.exists()


def test_torch_save_zip_is_refused() -> None:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buf)
    assert code_of(buf.getvalue()) == "zip_refused"


def test_torch_save_legacy_pickle_format_is_refused() -> None:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buf, _use_new_zipfile_serialization=False)
    assert code_of(buf.getvalue()) == "pickle_refused"


@pytest.mark.parametrize("prefix", [b"(dp0\nS'a'\n", b"ccopy_reg\n_reconstructor\n", b"c__builtin__\neval\n"])
def test_protocol_zero_pickle_patterns_are_refused(prefix: bytes) -> None:
    assert code_of(prefix + b"p0\n" * 4) == "pickle_refused"


def test_valid_file_whose_header_length_starts_with_pickle_byte_is_accepted() -> None:
    # Header length 0x0280 begins with the bytes 0x80 0x02, the pickle protocol-2 signature.
    header = json.dumps({"a": f32_entry([1], 0, 4)}).encode()
    header += b" " * (0x280 - len(header))
    data = raw_file(header, b"\x00" * 4)
    assert data[:2] == b"\x80\x02"
    assert parse_header(data, max_header_bytes=CAP).tensors["a"].shape == (1,)


# --- framing ------------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    assert code_of(b"") == "empty_file"


def test_seven_byte_file_is_truncated() -> None:
    assert code_of(b"\x10\x00\x00\x00\x00\x00\x00") == "truncated"


def test_file_cut_inside_tensor_data_is_truncated() -> None:
    assert code_of(VALID[:-3]) == "truncated"


def test_header_length_past_end_of_file_is_refused() -> None:
    assert code_of(struct.pack("<Q", 1000) + b"{}") == "header_past_end"


def test_header_longer_than_cap_is_refused_before_reading_it() -> None:
    assert code_of(struct.pack("<Q", CAP + 1) + b" " * (CAP + 1)) == "header_too_large"


def test_header_length_near_two_to_the_64_is_refused() -> None:
    assert code_of(b"\xff" * 7 + b"\x7f" + b"{}") == "header_too_large"


def test_non_json_header_is_refused() -> None:
    assert code_of(raw_file(b"{not json")) == "header_not_json"


def test_non_utf8_header_is_refused() -> None:
    assert code_of(raw_file(b'{"\xff":1}')) == "header_not_json"


def test_deeply_nested_header_is_refused() -> None:
    assert code_of(raw_file(b"[" * 3000 + b"]" * 3000), cap=10_000) == "header_not_json"


def test_header_that_is_a_json_list_is_refused() -> None:
    assert code_of(raw_file([1, 2])) == "header_not_object"


def test_duplicate_tensor_name_is_refused() -> None:
    entry = b'{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    header = b'{"a":' + entry + b',"a":' + entry + b"}"
    assert code_of(raw_file(header, b"\x00" * 4)) == "duplicate_key"


def test_metadata_with_non_string_value_is_refused() -> None:
    assert code_of(raw_file({"__metadata__": {"round": 3}})) == "bad_metadata"


def test_entry_with_extra_key_is_refused() -> None:
    entry = f32_entry([1], 0, 4) | {"extra": 1}
    assert code_of(raw_file({"a": entry}, b"\x00" * 4)) == "bad_entry"


# --- entries ------------------------------------------------------------------------------


def test_unknown_dtype_is_refused() -> None:
    header = {"a": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}
    assert code_of(raw_file(header, b"\x00" * 16)) == "bad_dtype"


def test_negative_dimension_is_refused() -> None:
    assert code_of(raw_file({"a": f32_entry([-1], 0, 4)}, b"\x00" * 4)) == "bad_shape"


def test_boolean_dimension_is_refused() -> None:
    assert code_of(raw_file({"a": f32_entry([True], 0, 4)}, b"\x00" * 4)) == "bad_shape"


def test_more_dimensions_than_numpy_supports_are_refused() -> None:
    assert code_of(raw_file({"a": f32_entry([1] * 65, 0, 4)}, b"\x00" * 4)) == "bad_shape"


def test_offsets_with_begin_after_end_are_refused() -> None:
    assert code_of(raw_file({"a": f32_entry([0], 4, 0)}, b"\x00" * 4)) == "bad_offsets"


def test_offsets_not_matching_shape_size_are_refused() -> None:
    data = raw_file({"a": f32_entry([3], 0, 8)}, b"\x00" * 8)
    with pytest.raises(TensorFormatError) as info:
        parse_header(data, max_header_bytes=CAP)
    assert info.value.code == "size_mismatch"
    assert "'a'" in info.value.message and "12 bytes" in info.value.message


def test_astronomical_shape_is_a_size_mismatch_not_a_hang() -> None:
    header = {"a": f32_entry([10**18] * 30, 0, 4)}
    assert code_of(raw_file(header, b"\x00" * 4)) == "size_mismatch"


# --- layout -------------------------------------------------------------------------------


def test_overlapping_offsets_are_refused() -> None:
    header = {"a": f32_entry([2], 0, 8), "b": f32_entry([2], 4, 12)}
    assert code_of(raw_file(header, b"\x00" * 12)) == "overlapping_offsets"


def test_gap_between_tensors_is_refused() -> None:
    header = {"a": f32_entry([2], 0, 8), "b": f32_entry([2], 16, 24)}
    assert code_of(raw_file(header, b"\x00" * 24)) == "offsets_gap"


def test_offsets_past_the_data_buffer_are_refused() -> None:
    assert code_of(raw_file({"a": f32_entry([2], 8, 16)}, b"\x00" * 8)) == "offsets_past_end"


def test_bytes_after_the_last_tensor_are_refused() -> None:
    assert code_of(VALID + b"\x00") == "trailing_bytes"


def test_tensors_listed_out_of_offset_order_are_accepted() -> None:
    header = {"b": f32_entry([1], 4, 8), "a": f32_entry([1], 0, 4)}
    arrays = parse_and_load(raw_file(header, struct.pack("<2f", 1.0, 2.0)))
    assert arrays["a"].item() == 1.0 and arrays["b"].item() == 2.0


def test_zero_size_tensor_is_accepted() -> None:
    arrays = parse_and_load(dump_arrays({"e": np.zeros((0, 3), np.float32)}))
    assert arrays["e"].shape == (0, 3)


# --- decoding -----------------------------------------------------------------------------


def test_f16_is_decoded_to_float32() -> None:
    arrays = parse_and_load(dump_arrays({"h": np.array([0.5, -2.0], np.float16)}))
    assert arrays["h"].dtype == np.float32
    np.testing.assert_array_equal(arrays["h"], [0.5, -2.0])


def test_bf16_is_decoded_to_float32() -> None:
    values = torch.tensor([1.5, -3.0, 1e30], dtype=torch.bfloat16)
    arrays = parse_and_load(safetensors.torch.save({"b": values}))
    assert arrays["b"].dtype == np.float32
    np.testing.assert_array_equal(arrays["b"], values.float().numpy())


def test_integer_and_f64_tensors_keep_their_numpy_dtype() -> None:
    arrays = parse_and_load(dump_arrays({"i": np.array([1, -2], np.int64), "d": np.array([0.1], np.float64)}))
    assert arrays["i"].dtype == np.int64 and arrays["d"].dtype == np.float64
    assert arrays["d"].item() == 0.1


def test_decoded_arrays_are_writable_copies() -> None:
    assert parse_and_load(VALID)["a"].flags.writeable


def test_metadata_is_returned() -> None:
    data = dump_arrays({"a": np.zeros(1, np.float32)}, {"round": "3"})
    assert parse_header(data, max_header_bytes=CAP).metadata == {"round": "3"}


def test_memoryview_input_is_accepted() -> None:
    view = memoryview(VALID)
    assert set(load_arrays(view, parse_header(view, max_header_bytes=CAP))) == {"a", "b"}


# --- compatibility with the reference implementation -------------------------------------


def test_dump_is_byte_identical_to_reference_for_f32() -> None:
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(2.5, np.float32)}
    assert dump_arrays(arrays, {"k": "v"}) == safetensors.numpy.save(arrays, metadata={"k": "v"})


def test_reference_loader_reads_our_output() -> None:
    arrays: dict[str, NDArray[Any]] = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "h": np.ones(3, np.float16),
    }
    loaded = safetensors.numpy.load(dump_arrays(arrays))
    assert loaded.keys() == arrays.keys()
    for name, arr in arrays.items():
        np.testing.assert_array_equal(loaded[name], arr)
        assert loaded[name].dtype == arr.dtype


def test_we_read_reference_output_identically() -> None:
    arrays: dict[str, NDArray[Any]] = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "i": np.array([7, 8, 9], np.int64),
        "m": np.array([True, False]),
        "s": np.array([1, 2], np.int16),
    }
    ours = parse_and_load(safetensors.numpy.save(arrays))
    assert ours.keys() == arrays.keys()
    for name, arr in arrays.items():
        np.testing.assert_array_equal(ours[name], arr)
        assert ours[name].dtype == arr.dtype


def test_header_is_padded_to_a_multiple_of_eight() -> None:
    (header_len,) = struct.unpack("<Q", dump_arrays({"abc": np.zeros(1, np.float32)})[:8])
    assert header_len % 8 == 0


def test_dump_refuses_the_reserved_metadata_name() -> None:
    with pytest.raises(ValueError):
        dump_arrays({"__metadata__": np.zeros(1, np.float32)})


# --- hashes -------------------------------------------------------------------------------


def test_file_sha256_is_sha256_of_the_exact_bytes() -> None:
    assert file_sha256(VALID) == hashlib.sha256(VALID).hexdigest()


def test_tensor_sha256_matches_the_documented_encoding() -> None:
    w = np.array([[1.0, 2.0]], np.float32)
    b = np.array([0.5], np.float32)

    def u64(n: int) -> bytes:
        return struct.pack("<Q", n)

    expected = (
        b"AURA-TENSORS-V1\n"
        + u64(2)
        + u64(1) + b"b" + u64(3) + b"F32" + u64(1) + u64(1) + u64(4) + struct.pack("<f", 0.5)
        + u64(1) + b"w" + u64(3) + b"F32" + u64(2) + u64(1) + u64(2) + u64(8)
        + struct.pack("<2f", 1.0, 2.0)
    )  # fmt: skip
    assert tensor_sha256({"w": w, "b": b}) == hashlib.sha256(expected).hexdigest()


def test_tensor_sha256_ignores_insertion_order() -> None:
    a, b = np.zeros(2, np.float32), np.ones(3, np.float32)
    assert tensor_sha256({"a": a, "b": b}) == tensor_sha256({"b": b, "a": a})


def test_tensor_sha256_distinguishes_shapes_with_the_same_bytes() -> None:
    values = np.arange(4, dtype=np.float32)
    assert tensor_sha256({"w": values}) != tensor_sha256({"w": values.reshape(2, 2)})


def test_tensor_sha256_distinguishes_how_bytes_split_between_names() -> None:
    one = {"a": np.zeros(2, np.float32)}
    two = {"a": np.zeros(1, np.float32), "b": np.zeros(1, np.float32)}
    assert tensor_sha256(one) != tensor_sha256(two)


def test_same_weights_as_f16_and_f32_files_hash_the_same() -> None:
    values = np.array([0.25, -1.5, 3.0], np.float16)
    as_f16 = parse_and_load(dump_arrays({"w": values}))
    as_f32 = parse_and_load(dump_arrays({"w": values.astype(np.float32)}))
    assert tensor_sha256(as_f16) == tensor_sha256(as_f32)


def test_same_weights_as_bf16_and_f32_files_hash_the_same() -> None:
    values = torch.tensor([0.25, -1.5, 3.0], dtype=torch.bfloat16)
    as_bf16 = parse_and_load(safetensors.torch.save({"w": values}))
    as_f32 = parse_and_load(dump_arrays({"w": values.float().numpy()}))
    assert tensor_sha256(as_bf16) == tensor_sha256(as_f32)


def test_tensor_sha256_refuses_float64_rather_than_rounding() -> None:
    with pytest.raises(ValueError):
        tensor_sha256({"w": np.zeros(2, np.float64)})


# --- properties ---------------------------------------------------------------------------

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12).filter(lambda n: n != "__metadata__")
f32_arrays = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements=st.floats(width=32, allow_nan=True, allow_infinity=True),
)


@given(st.dictionaries(names, f32_arrays, max_size=5))
def test_dump_parse_load_round_trips_arrays_and_tensor_hash(arrays: dict[str, NDArray[Any]]) -> None:
    loaded = parse_and_load(dump_arrays(arrays))
    assert loaded.keys() == arrays.keys()
    for name, arr in arrays.items():
        assert loaded[name].shape == arr.shape
        assert loaded[name].tobytes() == arr.tobytes()  # bitwise, so NaN and -0.0 count too
    assert tensor_sha256(loaded) == tensor_sha256(arrays)


@given(st.binary(max_size=256))
def test_random_bytes_raise_only_tensor_format_error(data: bytes) -> None:
    with contextlib.suppress(TensorFormatError):
        parse_and_load(data)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_valid_files_raise_only_tensor_format_error(draw: st.DataObject) -> None:
    data = bytearray(VALID)
    for _ in range(draw.draw(st.integers(1, 4))):
        data[draw.draw(st.integers(0, len(data) - 1))] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(data)))
    with contextlib.suppress(TensorFormatError):
        parse_and_load(bytes(data[:cut]))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    ),
    st.binary(max_size=64),
)
def test_arbitrary_json_headers_raise_only_tensor_format_error(header: object, data: bytes) -> None:
    with contextlib.suppress(TensorFormatError):
        parse_and_load(raw_file({"a": header} if not isinstance(header, dict) else header, data))
