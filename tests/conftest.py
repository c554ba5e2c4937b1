"""Shared fixtures: a tiny corpus whose duplicates and malformed records are known."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# Real sentences (People's Daily style and plain English); each long enough for 5-unit shingles.
ZH_A = "中共中央总书记、国家主席江泽民发表一九九八年新年讲话，回顾过去一年的巨大成就，展望新世纪的美好前景。" * 2
ZH_B = "北京市人民政府今天召开会议，研究部署春节期间的市场供应、交通运输和社会治安等各项工作，确保群众过好节日。"
EN_A = (
    "The committee met on Tuesday to review the annual budget, and agreed to fund three new libraries "
    "in the northern districts before the end of the year. Members also asked the city engineer to report "
    "on the state of the old river bridge, which has been closed to heavy traffic since the spring floods, "
    "and to propose a timetable for its repair."
)
EN_B = "A quiet village on the coast depends on fishing and tourism; its harbour was rebuilt after the storm of 1998."

# Near duplicates of ZH_A and EN_A (a few characters / one word changed: Jaccard well above 0.8).
ZH_A_NEAR = ZH_A.replace("巨大成就", "巨大成绩", 1)
EN_A_NEAR = EN_A.replace("three new libraries", "four new libraries")


def write_jsonl(path: Path, records: list[object]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """a.jsonl: 9 lines; b.jsonl: 2 lines. Known outcome, by id:

    a:1 ZH_A kept; a:2 EN_A kept; a:3 ZH_A in full-width/extra spaces -> dup_exact of a:1;
    a:4 ZH_A_NEAR -> dup_minhash of a:1; a:5 whitespace only -> empty_text; a:6 broken JSON -> quarantine;
    a:7 text is a number -> quarantine; a:8 ZH_B kept; a:9 no text field -> quarantine;
    b:1 EN_A_NEAR -> dup_minhash of a:2; b:2 EN_B kept.
    """
    d = tmp_path / "corpus"
    d.mkdir()
    write_jsonl(
        d / "a.jsonl",
        [
            {"text": ZH_A, "url": "https://news.example.cn/1", "lang": "zh"},
            {"text": EN_A, "url": "https://news.example.org/2"},
            {"text": "  " + ZH_A.replace("，", ",\u200b") + "\u3000\n"},
            {"text": ZH_A_NEAR},
            {"text": " \n\t "},
            '{"text": "unterminated',
            {"text": 42},
            {"text": ZH_B},
            {"body": "no text here"},
        ],
    )
    write_jsonl(d / "b.jsonl", [{"text": EN_A_NEAR}, {"text": EN_B}])
    return d
