"""Why a buyer returns: the reason taxonomy (zh/en) and free text classified by keywords.

A channel that gives only free text ("盒子压坏了，里面的也碎了") gets reason tags from the
keyword table ops edit (keyword -> tag). The text is cut into words first (the service passes a
word cutter, jieba, so that "不想要" in "我不想要了" is a word and "要" alone is not); a keyword
matches when it is one of the words. The text is always kept beside the tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from orderpilot.domain.errors import InvalidInput


@dataclass(frozen=True)
class Reason:
    tag: str
    zh: str
    en: str


REASONS: dict[str, Reason] = {r.tag: r for r in (
    Reason("damaged_packaging", "包装破损", "Damaged packaging"),
    Reason("wrong_item", "发错货", "Wrong item sent"),
    Reason("quality_issue", "质量问题", "Quality issue"),
    Reason("missing_items", "少件/漏发", "Missing items"),
    Reason("no_reason_7_days", "七天无理由", "7-day no-reason return"),
    Reason("wrong_size", "尺码不符", "Wrong size"),
    Reason("slow_delivery", "物流太慢", "Slow delivery"),
    Reason("changed_mind", "不想要了", "Changed mind"),
    Reason("not_as_described", "与描述不符", "Not as described"),
    Reason("expired", "临期/过期", "Near or past expiry"),
    Reason("other", "其他", "Other"),
)}

# The keyword table a new hub starts with; ops replace it (PUT /api/v1/returns/reason-keywords).
DEFAULT_KEYWORDS: dict[str, str] = {
    "破损": "damaged_packaging", "压坏": "damaged_packaging", "破了": "damaged_packaging",
    "漏液": "damaged_packaging", "碎": "damaged_packaging",
    "发错": "wrong_item", "错发": "wrong_item", "不是我买的": "wrong_item",
    "质量": "quality_issue", "坏了": "quality_issue", "开线": "quality_issue",
    "异味": "quality_issue", "起球": "quality_issue",
    "少件": "missing_items", "漏发": "missing_items", "少发": "missing_items",
    "缺少": "missing_items",
    "七天无理由": "no_reason_7_days", "无理由": "no_reason_7_days",
    "尺码": "wrong_size", "偏大": "wrong_size", "偏小": "wrong_size", "太小": "wrong_size",
    "太大": "wrong_size",
    "太慢": "slow_delivery", "物流": "slow_delivery", "迟迟": "slow_delivery",
    "不想要": "changed_mind", "拍错": "changed_mind", "不需要": "changed_mind",
    "描述不符": "not_as_described", "色差": "not_as_described",
    "过期": "expired", "临期": "expired",
}

MAX_KEYWORDS = 2000
MAX_REASON_TEXT = 2000


def check_tags(tags: Iterable[str], field: str = "reason_tags") -> list[str]:
    """The tags as given, each once; an unknown tag is refused, naming the known ones."""
    chosen = list(dict.fromkeys(tags))
    for i, tag in enumerate(chosen):
        if tag not in REASONS:
            known = ", ".join(REASONS)
            raise InvalidInput(f"unknown reason tag {tag!r}; known tags: {known}",
                               field=f"{field}[{i}]", code="unknown_reason_tag",
                               zh=f"未知的退货原因 {tag!r}；可用原因：{known}")
    return chosen


def check_keywords(rows: Mapping[str, str]) -> dict[str, str]:
    """A keyword table: each keyword 1-20 characters, mapped to a known tag."""
    if len(rows) > MAX_KEYWORDS:
        raise InvalidInput(f"at most {MAX_KEYWORDS} keywords", field="keywords",
                           zh=f"关键词最多 {MAX_KEYWORDS} 个")
    table: dict[str, str] = {}
    for keyword, tag in rows.items():
        word = keyword.strip()
        if not 1 <= len(word) <= 20 or any(c.isspace() for c in word):
            raise InvalidInput(f"keyword {keyword!r} must be 1-20 characters without spaces",
                               field=f"keywords.{keyword}",
                               zh=f"关键词 {keyword!r} 应为 1-20 个字符且不含空格")
        if tag not in REASONS:
            raise InvalidInput(f"keyword {keyword!r}: unknown reason tag {tag!r}; known tags: "
                               f"{', '.join(REASONS)}", field=f"keywords.{keyword}",
                               code="unknown_reason_tag",
                               zh=f"关键词 {keyword!r}：未知的退货原因 {tag!r}")
        table[word] = tag
    return table


def classify(text: str, keywords: Mapping[str, str],
             cut: Callable[[str], Iterable[str]]) -> list[str]:
    """The tags whose keywords are words of ``text``, in the order they first appear; ``other``
    when text is given and nothing matches, nothing for no text."""
    if not text.strip():
        return []
    found: list[str] = []
    for word in cut(text):
        tag = keywords.get(word.strip())
        if tag is not None and tag not in found:
            found.append(tag)
    return found or ["other"]
