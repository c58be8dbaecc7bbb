"""Masking of personal data: DOMAIN.md §6's rules, hand-checked."""
from __future__ import annotations

import pytest

from dashboard.privacy import mask_id, mask_numbers, mask_phone, mask_text


@pytest.mark.parametrize("given, masked", [
    ("13812345678", "138****5678"),
    ("电话13812345678转", "电话138****5678转"),
    ("12345678", "12345678"),  # not a mobile number: mask_phone leaves it
    ("+86 138 1234 5678", "+86 138****5678"),
    ("138-1234-5678", "138****5678"),
    ("8613812345678", "86138****5678"),
])
def test_prv001_phone_keeps_first_3_and_last_4(given, masked):
    assert mask_phone(given) == masked


@pytest.mark.parametrize("given, masked", [
    ("110101199003071234", "1101**********1234"),
    ("11010119900307123X", "1101**********123X"),
])
def test_prv002_id_keeps_first_4_and_last_4(given, masked):
    assert mask_id(given) == masked


@pytest.mark.parametrize("given, masked", [
    ("张三 13812345678", "张* 138****5678"),
    ("欧阳娜娜，身份证110101199003071234", "欧***，身**1101**********1234"),
    ("Li Lei li.lei@example.com 010-62751234", "L* L** l***@example.com 010-62****34"),
    ("a@b.cn", "a***@b.cn"),
    ("", ""),
    (None, None),
])
def test_prv003_free_text_hides_names_and_numbers(given, masked):
    assert mask_text(given) == masked


def test_prv004_a_description_keeps_its_words_and_loses_its_numbers():
    assert mask_numbers("来电人张三丰 110101199003071234，电话 138-1234-5678，井盖缺失") == (
        "来电人张三丰 1101**********1234，电话 138****5678，井盖缺失")
