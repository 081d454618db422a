"""A tiny document model (headings, text, lists, tables, trees) rendered as Markdown or HTML.

Debugging reports are built once as blocks and written in either format, so the two never
drift apart and no template engine is needed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)


@dataclass
class Document:
    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("heading", text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("bullets", list(items)))

    def table(self, columns: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(("table", (list(columns), [[_cell(v) for v in row] for row in rows])))

    def tree(self, root: Node) -> None:
        self.blocks.append(("tree", root))


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for kind, content in doc.blocks:
        if kind == "heading":
            out += [f"## {content}", ""]
        elif kind == "paragraph":
            out += [content, ""]
        elif kind == "bullets":
            out += [f"- {item}" for item in content] + [""] if content else ["(none)", ""]
        elif kind == "table":
            columns, rows = content
            out.append("| " + " | ".join(_md_escape(c) for c in columns) + " |")
            out.append("|" + "|".join("---" for _ in columns) + "|")
            out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
            out.append("")
        elif kind == "tree":
            stack = [(content, 0)]
            while stack:
                node, depth = stack.pop()
                out.append("  " * depth + f"- {node.text}")
                stack.extend((child, depth + 1) for child in reversed(node.children))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse;margin:0 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}th{background:#f3f3f3}ul.tree{font-family:ui-monospace,monospace;font-size:.9rem}"
)


def to_html(doc: Document) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    for kind, content in doc.blocks:
        if kind == "heading":
            out.append(f"<h2>{e(content)}</h2>")
        elif kind == "paragraph":
            out.append(f"<p>{e(content)}</p>")
        elif kind == "bullets":
            out.append(
                "<ul>" + "".join(f"<li>{e(i)}</li>" for i in content) + "</ul>"
                if content
                else "<p>(none)</p>"
            )
        elif kind == "table":
            columns, rows = content
            head = "".join(f"<th>{e(c)}</th>" for c in columns)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "tree":
            out.append('<ul class="tree">' + _html_node(content) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_node(root: Node) -> str:
    """Nested <li>/<ul>, built without recursion (traces can be deep)."""
    parts: list[str] = []
    stack: list[Node | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        parts.append(f"<li>{html.escape(item.text)}")
        if item.children:
            parts.append("<ul>")
            stack.append("</ul></li>")
            stack.extend(reversed(item.children))
        else:
            parts.append("</li>")
    return "".join(parts)
