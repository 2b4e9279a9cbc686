"""RFC 8785 canonicalization against the reference test data (cyberphone) and Appendix B."""

from __future__ import annotations

import csv
import math
import struct
from pathlib import Path

import pytest

from identity.core.jcs import JCSError, canonicalize, canonicalize_text, parse_json

CASES = ["arrays", "french", "structures", "unicode", "values", "weird"]


def _double(hex_bits: str) -> float:
    return struct.unpack(">d", int(hex_bits, 16).to_bytes(8, "big"))[0]


@pytest.fixture(scope="module")
def jcs_dir(conformance_dir: Path) -> Path:
    return conformance_dir / "jcs_rfc8785"


@pytest.mark.parametrize("name", CASES)
def test_reference_input_gives_reference_output(jcs_dir: Path, name: str) -> None:
    source = (jcs_dir / "testdata" / "input" / f"{name}.json").read_bytes()
    expected = (jcs_dir / "testdata" / "output" / f"{name}.json").read_bytes()
    assert canonicalize_text(source) == expected


@pytest.mark.parametrize("name", CASES)
def test_reference_outhex_matches_output(jcs_dir: Path, name: str) -> None:
    hex_text = (jcs_dir / "testdata" / "outhex" / f"{name}.txt").read_text()
    expected = bytes.fromhex("".join(hex_text.split()))
    source = (jcs_dir / "testdata" / "input" / f"{name}.json").read_bytes()
    assert canonicalize_text(source) == expected


def test_canonical_output_is_a_fixed_point(jcs_dir: Path) -> None:
    for name in CASES:
        out = (jcs_dir / "testdata" / "output" / f"{name}.json").read_bytes()
        assert canonicalize_text(out) == out


def test_appendix_b_numbers(jcs_dir: Path) -> None:
    with (jcs_dir / "numbers" / "rfc8785_appendix_b.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 26
    finite = 0
    for row in rows:
        number = _double(row["ieee754_hex"])
        if row["json_representation"] == "":
            assert not math.isfinite(number)
            with pytest.raises(JCSError, match="NaN and Infinity"):
                canonicalize(number)
        else:
            finite += 1
            assert canonicalize(number).decode() == row["json_representation"], row
    assert finite == 24


def test_es6_number_serialization_first_10000_lines(jcs_dir: Path) -> None:
    path = jcs_dir / "numbers" / "es6testfile100m_first10000.txt"
    count = 0
    with path.open() as fh:
        for line in fh:
            hex_bits, expected = line.rstrip("\n").split(",")
            assert canonicalize(_double(hex_bits)).decode() == expected, line
            count += 1
    assert count == 10_000


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), {"a": [1, float("nan")]}],
)
def test_non_finite_numbers_are_rejected(value: object) -> None:
    with pytest.raises(JCSError, match="NaN and Infinity"):
        canonicalize(value)


@pytest.mark.parametrize("value", [b"bytes", {1: "int key"}, {"s": {1, 2}}, object()])
def test_non_json_types_are_rejected(value: object) -> None:
    with pytest.raises(JCSError, match="not a JSON value"):
        canonicalize(value)


def test_unsafe_integer_is_rejected() -> None:
    assert canonicalize(2**53 - 1) == b"9007199254740991"
    with pytest.raises(JCSError, match="safe range"):
        canonicalize(2**53 + 1)


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(JCSError):
        canonicalize({"k": "\ud800"})


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "[-Infinity]"])
def test_non_finite_literals_in_text_are_rejected(text: str) -> None:
    with pytest.raises(JCSError, match="not a JSON number"):
        parse_json(text)


def test_duplicate_keys_in_text_are_rejected() -> None:
    with pytest.raises(JCSError, match="duplicate object key"):
        canonicalize_text('{"a": 1, "a": 2}')


def test_malformed_text_is_rejected() -> None:
    with pytest.raises(JCSError, match="invalid JSON"):
        canonicalize_text(b'{"a": ')
    with pytest.raises(JCSError, match="invalid JSON"):
        canonicalize_text(b"\xff\xfe")
