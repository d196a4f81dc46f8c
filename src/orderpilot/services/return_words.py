"""Cutting a buyer's free text into words for the reason keywords (jieba, 结巴分词).

jieba (https://github.com/fxsjy/jieba, MIT) cuts Chinese text with its own dictionary; the
keywords of the table are added to the dictionary first (``add_word``), so a keyword ops add is
always cut as one word. One tokenizer per process, its dictionary loaded on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)
_lock = threading.Lock()
_tokenizer = jieba.Tokenizer()
_known: set[str] = set()


def cutter(keywords: Iterable[str]) -> jieba.Tokenizer:
    with _lock:
        for word in keywords:
            if word not in _known:
                _tokenizer.add_word(word, freq=200_000)
                _known.add(word)
    return _tokenizer


def cut(text: str, keywords: Iterable[str]) -> list[str]:
    """The words of ``text``, each keyword of the table kept whole."""
    tokenizer = cutter(keywords)
    with _lock:
        return [w for w in tokenizer.lcut(text, HMM=True) if w.strip()]
