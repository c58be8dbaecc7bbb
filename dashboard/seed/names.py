"""Chinese names for the demo city: places from common place-name characters, people from common
surnames and given-name characters. Every draw goes through the caller's numpy generator."""
from __future__ import annotations

import numpy as np

CITY_NAME = "云州市"

# Characters that start and end Jiangnan place names (溪, 塘, 浜, 泾 …); combined at random they
# read like real names without copying a real city's list.
PLACE_HEADS = list(
    "云东西南北金玉青白清龙凤桃梅兰枫松柳长平安和新古吴虎鹤锦春秋望双石沙横香翠碧紫丹红黄华宝福永"
    "兴胜泰康宁乐德文崇嘉善明光景盛荷莲芙杏竹桂菱渔洋娄胥盘陆车通会启元友越蠡漕钱葛唯方尚仁"
)
PLACE_TAILS = list("溪城湖山江河桥塘阳泉浦港湾林泾渡庄坊园台洲亭岭门苑泽埠墩滨浜荡圩口里汇堰")
# A third character turns a base into a neighbourhood name (养育巷, 桃花坞).
COMMUNITY_SUFFIXES = list("巷坞坊里苑园桥湾弄街") + ["新村", "花园", "家园"]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
# Rough frequency falloff: the top surnames (王, 李, 张 …) are several times commoner than the tail.
SURNAME_WEIGHTS = 1.0 / np.sqrt(np.arange(1, len(SURNAMES) + 1))
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚英华建国文辉玲红林斌波宇浩凯鹏俊晨欣怡婷雪琳慧峰亮燕萍"
    "颖倩丹春海云志宏晓嘉佳子梓涵诺雨思睿泽轩博昊然悦欢秀桂兰德永立振"
)


def place_bases(rng: np.random.Generator, count: int) -> list[str]:
    """Return ``count`` distinct two-character place-name bases in random order."""
    total = len(PLACE_HEADS) * len(PLACE_TAILS)
    if count > total:
        raise ValueError(f"only {total} distinct place names, {count} asked")
    picks = rng.permutation(total)[:count]
    return [PLACE_HEADS[i // len(PLACE_TAILS)] + PLACE_TAILS[i % len(PLACE_TAILS)] for i in picks]


def community_names(rng: np.random.Generator, bases: list[str], villages: np.ndarray) -> list[str]:
    """Name communities: a village is ``<base>村``, a residents' community ``<base><suffix>社区``."""
    suffixes = rng.choice(len(COMMUNITY_SUFFIXES), size=len(bases))
    return [
        f"{base}村" if village else f"{base}{COMMUNITY_SUFFIXES[s]}社区"
        for base, village, s in zip(bases, villages, suffixes)
    ]


def short_name(community: str) -> str:
    """Return a community's name without its 社区 / 村 ending, for its grids' names."""
    for ending in ("社区", "村"):
        if community.endswith(ending):
            return community[: -len(ending)]
    return community


def person_names(rng: np.random.Generator, count: int) -> list[str]:
    """Return ``count`` person names (surname + one or two given-name characters)."""
    surnames = rng.choice(len(SURNAMES), size=count, p=SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum())
    first = rng.choice(len(GIVEN_CHARS), size=count)
    second = rng.choice(len(GIVEN_CHARS), size=count)
    two = rng.random(count) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if t else "")
        for s, a, b, t in zip(surnames, first, second, two)
    ]


def phone_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Return ``count`` distinct fake mainland mobile numbers (``1[3-9]x xxxx xxxx``)."""
    numbers: set[int] = set()
    out: list[int] = []
    while len(out) < count:
        prefix = 10 + rng.integers(3, 10, size=count)  # 13 … 19
        rest = rng.integers(0, 10**9, size=count)
        for value in prefix * 10**9 + rest:
            if value not in numbers:
                numbers.add(int(value))
                out.append(int(value))
                if len(out) == count:
                    break
    return [str(v) for v in out]
