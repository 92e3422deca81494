"""The partition rule, by example. test/integrations/airflow-partition.test.ts checks it equal to
contracts/partition.ts over generated cases; these name the cases that matter and why."""

from __future__ import annotations

import pytest

from ct_coordinator_airflow.partition import EXAMPLES, partition_format_of, partition_problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-21", "daily"),
        ("2026-11-21T07", "hourly"),
        ("2026-11", "monthly"),
        ("2024-02-29", "daily"),  # leap year
        ("2000-02-29", "daily"),  # divisible by 400: leap
        ("2026-11-21T00", "hourly"),
        ("2026-11-21T23", "hourly"),
        ("0001-01", "monthly"),
        ("9999-12-31T23", "hourly"),
    ],
)
def test_real_calendar_values_have_their_format(value: str, expected: str) -> None:
    assert partition_format_of(value) == expected
    assert partition_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",  # the shape of a day, but none
        "2026-02-29",  # not a leap year
        "1900-02-29",  # divisible by 100, not 400: no leap year
        "2026-04-31",
        "2026-11-00",
        "2026-00",
        "2026-13",
        "0000-01",  # there is no year 0
        "2026-11-21T24",
        "2026-11-21T7",
        "2026-11-21t07",
        "2026-11-21 07",
        "2026-11-21T07:00",
        "2026-11-21\n",  # Python's $ would allow it; the rule (and JavaScript's $) do not
        " 2026-11-21",
        "26-11-21",
        "20261121",
        "2026-1-21",
        "２０２６-11-21",  # fullwidth digits: Python's \d matches them, JavaScript's does not
        "٢٠٢٦-11",  # Arabic-Indic digits
        "",
    ],
)
def test_what_is_no_partition_is_refused_with_the_value_and_the_examples(value: str) -> None:
    assert partition_format_of(value) is None
    problem = partition_problem(value)
    assert problem is not None
    assert repr(value) in problem
    for example in EXAMPLES.values():
        assert example in problem


@pytest.mark.parametrize("value", [None, 20261121, 2026.11, ["2026-11-21"], {"partition": "2026-11-21"}, b"2026-11-21"])
def test_non_strings_are_no_partition(value: object) -> None:
    assert partition_format_of(value) is None
    assert partition_problem(value) is not None
