"""Rules as YAML files (one rule a file), read with line numbers so every error names the file,
the line and the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orderpilot.domain.errors import RuleFileError

__all__ = ["RuleFile", "RuleFileError", "read_rule_file"]

MAX_FILE_BYTES = 1024 * 1024  # a rule file is a few KB; this is far beyond any real one
TOP_KEYS = ("key", "status", "name", "description", "trigger", "conditions", "expression",
            "actions")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass
class RuleFile:
    path: Path
    data: dict[str, Any]
    root: yaml.Node

    def line_of(self, field: str) -> int | None:
        """The 1-based line of a field path such as ``actions[2].params.template``."""
        node: yaml.Node | None = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for name, index in _PART.findall(field):
            if isinstance(node, yaml.MappingNode) and name:
                found = next((v for k, v in node.value if getattr(k, "value", None) == name),
                             None)
                if found is None:
                    break
                node = found
            elif isinstance(node, yaml.SequenceNode) and index:
                i = int(index)
                if i >= len(node.value):
                    break
                node = node.value[i]
            else:
                break
            line = node.start_mark.line + 1
        return line

    def error(self, field: str | None, message: str, *, zh: str | None = None) -> RuleFileError:
        return RuleFileError(self.path, self.line_of(field) if field else None, field, message,
                             zh=zh)


def _refuse_aliases(path: Path, text: str) -> None:
    """Anchors and aliases (``&a`` / ``*a``) let a 600-byte file stand for billions of nodes
    ("billion laughs"); rule files never need them. Checked on the parser's event stream, which
    is linear in the file, before any document is built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            kind = "an alias" if isinstance(event, yaml.AliasEvent) else "an anchor"
            mark = event.start_mark
            kind_zh = "别名" if isinstance(event, yaml.AliasEvent) else "锚点"
            raise RuleFileError(path, mark.line + 1 if mark else None, None,
                                f"{kind} (&name / *name) is not allowed in rule files; write "
                                f"the value out",
                                zh=f"规则文件中不允许使用{kind_zh}（&name / *name），"
                                   f"请直接写出取值")


def read_rule_file(path: Path) -> RuleFile:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RuleFileError(path, None, None, f"the file is {size} bytes; a rule file "
                                                  f"holds at most {MAX_FILE_BYTES}",
                                zh=f"文件大小为 {size} 字节；规则文件最多 {MAX_FILE_BYTES} 字节")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError(path, None, None, f"cannot read the file: {error}",
                            zh=f"无法读取文件：{error}") from error
    try:
        _refuse_aliases(path, text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise RuleFileError(path, mark.line + 1 if mark else None, None,
                            f"not valid YAML: {getattr(error, 'problem', error)}",
                            zh=f"不是有效的 YAML：{getattr(error, 'problem', error)}") from error
    if not isinstance(data, dict) or root is None:
        raise RuleFileError(path, 1, None, "a rule file holds one mapping (key, name, "
                                           "trigger, conditions, actions)",
                            zh="规则文件只包含一个映射（key、name、trigger、conditions、actions）")
    rule_file = RuleFile(path, data, root)
    for key in data:
        if key not in TOP_KEYS:
            raise rule_file.error(str(key), f"unknown field; allowed: {', '.join(TOP_KEYS)}",
                                  zh=f"未知字段；允许的字段：{'、'.join(TOP_KEYS)}")
    for required in ("key", "name", "trigger", "actions"):
        if required not in data:
            raise RuleFileError(path, 1, required, "is required", zh="必填")
    return rule_file


def write_rule_file(path: Path, data: dict[str, Any]) -> None:
    ordered = {k: data[k] for k in TOP_KEYS if k in data and data[k] not in (None, "")}
    path.write_text(yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=100),
                    encoding="utf-8")
