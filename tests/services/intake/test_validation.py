"""Tests for services.intake.validation: what an uploaded update must be to get in."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from services.intake.validation import UploadRejected, ValidatedUpdate, validate_update
from shared.modeltask.registry import get_task
from shared.modeltask.schema import TensorSchema, TensorSpec
from shared.tensors import dump_arrays, file_sha256, tensor_sha256

SCHEMA = TensorSchema(
    (TensorSpec("fc1.weight", (4, 3)), TensorSpec("fc1.bias", (4,)), TensorSpec("fc2.weight", (1, 4)))
)
MAX_HEADER = 4096
MAX_UPLOAD = 64 * 1024


def good_weights() -> dict[str, NDArray[np.float32]]:
    """Finite float32 weights matching SCHEMA."""
    rng = np.random.default_rng(0)
    return {s.name: rng.standard_normal(s.shape).astype(np.float32) for s in SCHEMA.tensors}


def validate(data: bytes, schema: TensorSchema = SCHEMA) -> ValidatedUpdate:
    """validate_update with this module's limits."""
    return validate_update(data, schema, max_header_bytes=MAX_HEADER, max_upload_bytes=MAX_UPLOAD)


def rejection(data: bytes) -> UploadRejected:
    """The UploadRejected that validation raises for these bytes."""
    with pytest.raises(UploadRejected) as info:
        validate(data)
    return info.value


def raw_file(header: object, data: bytes = b"") -> bytes:
    """A safetensors-shaped file with this header (JSON-encoded unless already bytes)."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def f32_entry(shape: list[int], begin: int, end: int) -> dict[str, Any]:
    """A header entry for an F32 tensor."""
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


def with_values(name: str, *values: float) -> bytes:
    """A file of good weights whose tensor `name` starts with these values."""
    weights = good_weights()
    weights[name].flat[: len(values)] = values
    return dump_arrays(weights)


class CanaryExploit:
    """Unpickling this creates a file: a stand-in for a pickle that runs an attacker's code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (str(self.path), "w"))


# --- accepted updates ---------------------------------------------------------------------


def test_matching_f32_update_is_accepted_with_its_arrays() -> None:
    weights = good_weights()
    update = validate(dump_arrays(weights))
    assert update.arrays.keys() == weights.keys()
    for name, arr in weights.items():
        np.testing.assert_array_equal(update.arrays[name], arr)
        assert update.arrays[name].dtype == np.float32


def test_accepted_update_carries_both_hashes() -> None:
    data = dump_arrays(good_weights())
    update = validate(data)
    assert update.file_sha256 == file_sha256(data)
    assert update.tensor_sha256 == tensor_sha256(good_weights())


def test_accepted_update_carries_header_metadata() -> None:
    assert validate(dump_arrays(good_weights(), {"round": "2"})).metadata == {"round": "2"}


def test_f16_update_is_accepted_and_hashes_like_the_same_f32_weights() -> None:
    f16 = {k: v.astype(np.float16) for k, v in good_weights().items()}
    f32 = {k: v.astype(np.float32) for k, v in f16.items()}
    assert validate(dump_arrays(f16)).tensor_sha256 == validate(dump_arrays(f32)).tensor_sha256


def test_bf16_update_is_accepted_as_float32() -> None:
    bf16 = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in good_weights().items()}
    update = validate(safetensors.torch.save(bf16))
    np.testing.assert_array_equal(update.arrays["fc1.bias"], bf16["fc1.bias"].float().numpy())


def test_initial_heart_mlp_weights_pass_the_heart_mlp_schema() -> None:
    task = get_task("heart-mlp")
    update = validate(dump_arrays(task.initial_weights()), task.schema)
    assert update.arrays.keys() == task.schema.by_name().keys()


# --- hostile and malformed files ----------------------------------------------------------


def test_code_running_pickle_is_refused_and_never_run(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    error = rejection(pickle.dumps(CanaryExploit(canary)))
    assert error.code == "pickle_refused"
    assert not canary.exists()


def test_torch_save_file_is_refused() -> None:
    buf = io.BytesIO()
    torch.save({k: torch.from_numpy(v) for k, v in good_weights().items()}, buf)
    assert rejection(buf.getvalue()).code == "zip_refused"


def test_empty_file_is_refused() -> None:
    assert rejection(b"").code == "empty_file"


def test_seven_byte_file_is_refused() -> None:
    assert rejection(b"\x00" * 7).code == "truncated"


def test_truncated_file_is_refused() -> None:
    assert rejection(dump_arrays(good_weights())[:-1]).code == "truncated"


def test_header_length_past_end_of_file_is_refused() -> None:
    assert rejection(struct.pack("<Q", 2000) + b"{}").code == "header_past_end"


def test_header_longer_than_cap_is_refused() -> None:
    assert rejection(raw_file(b" " * (MAX_HEADER + 8))).code == "header_too_large"


def test_non_json_header_is_refused() -> None:
    assert rejection(raw_file(b"fc1.weight: F32")).code == "header_not_json"


def test_list_header_is_refused() -> None:
    assert rejection(raw_file([])).code == "header_not_object"


def test_overlapping_offsets_are_refused() -> None:
    header = {"a": f32_entry([2], 0, 8), "b": f32_entry([2], 4, 12)}
    assert rejection(raw_file(header, b"\x00" * 12)).code == "overlapping_offsets"


def test_gap_between_tensors_is_refused() -> None:
    header = {"a": f32_entry([1], 0, 4), "b": f32_entry([1], 8, 12)}
    assert rejection(raw_file(header, b"\x00" * 12)).code == "offsets_gap"


def test_offsets_past_the_buffer_are_refused() -> None:
    assert rejection(raw_file({"a": f32_entry([4], 64, 80)}, b"\x00" * 16)).code == "offsets_past_end"


def test_oversize_upload_is_refused() -> None:
    error = rejection(b"\x00" * (MAX_UPLOAD + 1))
    assert error.code == "too_large"


def test_oversize_pickle_is_refused_by_size_before_being_sniffed() -> None:
    assert rejection(pickle.dumps(b"\x00" * MAX_UPLOAD)).code == "too_large"


# --- schema mismatches --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_dtype_outside_accepted_set_is_refused_naming_tensor_and_dtype(dtype: type[np.generic]) -> None:
    weights: dict[str, NDArray[Any]] = dict(good_weights())
    weights["fc1.bias"] = weights["fc1.bias"].astype(dtype)
    error = rejection(dump_arrays(weights))
    assert error.code == "dtype_not_accepted"
    assert "'fc1.bias'" in error.message
    assert ("I64" if dtype is np.int64 else "F64") in error.message


def test_wrong_shape_is_refused_with_got_and_expected() -> None:
    weights = good_weights()
    weights["fc1.weight"] = np.zeros((3, 4), np.float32)
    error = rejection(dump_arrays(weights))
    assert error.code == "shape_mismatch"
    assert "'fc1.weight'" in error.message and "[3, 4]" in error.message and "[4, 3]" in error.message


def test_extra_tensor_is_refused_by_name() -> None:
    weights = good_weights() | {"backdoor.trigger": np.zeros(1, np.float32)}
    error = rejection(dump_arrays(weights))
    assert error.code == "unexpected_tensor"
    assert "'backdoor.trigger'" in error.message


def test_missing_tensor_is_refused_by_name() -> None:
    weights = good_weights()
    del weights["fc2.weight"]
    error = rejection(dump_arrays(weights))
    assert error.code == "missing_tensor"
    assert "'fc2.weight'" in error.message


def test_nan_values_are_refused_naming_tensor_and_count() -> None:
    error = rejection(with_values("fc1.bias", float("nan"), float("nan")))
    assert error.code == "non_finite"
    assert "'fc1.bias'" in error.message and "2 NaN" in error.message


def test_positive_infinity_is_refused_naming_tensor_and_count() -> None:
    error = rejection(with_values("fc2.weight", float("inf")))
    assert error.code == "non_finite"
    assert "'fc2.weight'" in error.message and "1 infinite" in error.message


def test_negative_infinity_is_refused() -> None:
    assert rejection(with_values("fc1.weight", float("-inf"))).code == "non_finite"


def test_f16_overflow_to_infinity_is_refused() -> None:
    f16 = {k: v.astype(np.float16) for k, v in good_weights().items()}
    f16["fc1.bias"][0] = np.float16(np.inf)
    assert rejection(dump_arrays(f16)).code == "non_finite"


# --- properties ---------------------------------------------------------------------------


@given(st.binary(max_size=512))
def test_random_bytes_raise_only_upload_rejected(data: bytes) -> None:
    with contextlib.suppress(UploadRejected):
        validate(data)
