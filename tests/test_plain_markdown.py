"""The notebooks read cleanly in plain Jupyter and Colab: no MyST in any markdown cell.

Jupyter and Colab render CommonMark (plus ``$…$`` maths); what MyST would add is carried by
cell tags (CONTRIBUTING.md). Each markdown cell of every notebook in chapters/ and
solutions/ is parsed with markdown-it-py in plain CommonMark mode, as Jupyter does, and
any MyST construct that would show as raw text is reported by notebook and cell. Citation
links, ``[Vaswani et al. (2017)](#ref-vaswani2017attention)``, must name a reference of
references.bib by its author-year text.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

from utils.references import CITATION, load_references

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("chapters", "solutions")
    for path in (ROOT / folder).glob("*.ipynb")
)

_PARSER = MarkdownIt("commonmark")
# {name}`…`: a MyST role (cite:p, doc, ref, numref, math, …).
_ROLE = re.compile(r"\{[A-Za-z][\w:+.-]*\}$")
_COLON_FENCE = re.compile(r"^\s*:{3,}")
_TARGET = re.compile(r"^\s*\([^()\s]+\)=\s*$")
_COMMENT = re.compile(r"^%")
_BLOCK_BREAK = re.compile(r"^\+\+\+")
_LABELLED_MATH = re.compile(r"\$\$\s*\([^()\s]+\)\s*$")
_SUBSTITUTION = re.compile(r"\{\{[^{}]+\}\}")


def myst_problems(markdown: str) -> list[str]:
    """The MyST constructs in ``markdown`` that plain CommonMark would show as raw text.

    Text inside code (fenced or indented blocks and code spans) is code, not MyST, except
    a fence whose info string is a directive, ```` ```{name} ````.
    """
    problems: list[str] = []
    for token in _PARSER.parse(markdown):
        if token.type == "fence" and token.info.strip().startswith("{"):
            problems.append(f"directive fence ```{token.info.strip()}")
        if token.type != "inline":
            continue
        for line in token.content.split("\n"):
            if _COLON_FENCE.match(line):
                problems.append(f"colon directive fence {line.strip()!r}")
            if _TARGET.match(line):
                problems.append(f"MyST target {line.strip()!r}")
            if _COMMENT.match(line):
                problems.append(f"MyST comment line {line.strip()!r}")
            if _BLOCK_BREAK.match(line):
                problems.append(f"MyST block break {line.strip()!r}")
            if _LABELLED_MATH.search(line):
                problems.append(f"labelled equation {line.strip()!r}")
            for match in _SUBSTITUTION.finditer(line):
                problems.append(f"MyST substitution {match.group(0)!r}")
        children = token.children or []
        for before, after in zip(children, children[1:], strict=False):
            if before.type == "text" and after.type == "code_inline":
                role = _ROLE.search(before.content)
                if role:
                    problems.append(f"role {role.group(0)}`{after.content}`")
    return problems


def citation_problems(markdown: str, references: dict) -> list[str]:
    """Each ``[text](#ref-KEY)`` must cite a key of references.bib by its author-year text."""
    problems = []
    for match in CITATION.finditer(markdown):
        text, key = match.group(1), match.group(2)
        if key not in references:
            problems.append(f"[{text}](#ref-{key}): references.bib has no entry {key!r}")
            continue
        reference = references[key]
        if text not in (reference.textual, reference.parenthetical):
            problems.append(
                f"[{text}](#ref-{key}): write {reference.textual!r} in a sentence or "
                f"{reference.parenthetical!r} inside your own parentheses"
            )
    return problems


def notebook_problems(notebook: nbformat.NotebookNode, name: str, references: dict) -> list[str]:
    """Every MyST and citation problem of one notebook's markdown cells, by cell."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for problem in myst_problems(cell.source) + citation_problems(cell.source, references):
            problems.append(f"{name}, cell {index}: {problem}")
    return problems


@pytest.fixture(scope="module")
def references():
    return load_references()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_markdown_is_plain_commonmark(name, references):
    notebook = nbformat.read(ROOT / name, as_version=4)
    problems = notebook_problems(notebook, name, references)
    assert not problems, "MyST or wrong citations in markdown cells:\n" + "\n".join(problems)


# --- The checker itself, on synthetic notebooks --------------------------------------------

CLEAN = [
    "# Chapter 9: Synthetic (solutions)\n\nTransformers "
    "([Vaswani et al., 2017](#ref-vaswani2017attention)) and "
    "[Hochreiter and Schmidhuber (1997)](#ref-hochreiter1997long). See [chapter 1](01_attention.ipynb).",
    "**Exercise 9.1 (task 9.1): Queries**\n\nImplement `qkv(X)`; $Q = XW^Q$ and\n\n"
    "$$\nZ = \\operatorname{softmax}(QK^\\top)V\n$$\n\n```python\nqkv(X)\n```",
    # MyST-looking text inside code is code, and shows as such in Jupyter.
    "Write a role as `` {cite:p}`key` `` in MyST; a fence:\n\n```text\n:::{note}\n(label)=\n```",
    "**Your answer:** *(double-click this cell and replace this line with your answer)*",
    '## References\n\n- <a id="ref-vaswani2017attention"></a>Vaswani, A. (2017). Attention.',
]

MYST = {
    "```{exercise} Task 1.1\n:label: ex-1\nDo it.\n```": "directive fence",
    ":::{note}\nA note.\n:::": "colon directive fence",
    "Transformers {cite:p}`vaswani2017attention` are everywhere.": "role {cite:p}",
    "See {doc}`chapters/01_attention`.": "role {doc}",
    "(sec-attention)=\n## Attention": "MyST target",
    "% a MyST comment\nText.": "MyST comment",
    "$$\nx = 1\n$$ (eq-one)": "labelled equation",
    "Hello {{ name }}.": "MyST substitution",
}


def _notebook(sources: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in sources])


def test_checker_passes_a_clean_notebook(references):
    assert notebook_problems(_notebook(CLEAN), "clean.ipynb", references) == []


@pytest.mark.parametrize("source, expected", list(MYST.items()))
def test_checker_fails_each_myst_construct(source, expected, references):
    problems = notebook_problems(_notebook(CLEAN + [source]), "myst.ipynb", references)
    assert problems, f"{expected} not found"
    assert all(p.startswith(f"myst.ipynb, cell {len(CLEAN)}: {expected}") for p in problems), (
        problems
    )


def test_checker_names_unknown_keys_and_wrong_author_year_text(references):
    notebook = _notebook(
        [
            "As [Vaswani (2017)](#ref-vaswani2017attention) showed.",
            "([Nobody, 2020](#ref-nobody2020))",
            "[Vaswani et al. (2017)](#ref-vaswani2017attention) and "
            "([Cho et al., 2014](#ref-cho2014learning)).",
        ]
    )
    problems = notebook_problems(notebook, "cites.ipynb", references)
    assert problems == [
        "cites.ipynb, cell 0: [Vaswani (2017)](#ref-vaswani2017attention): write "
        "'Vaswani et al. (2017)' in a sentence or 'Vaswani et al., 2017' inside your own "
        "parentheses",
        "cites.ipynb, cell 1: [Nobody, 2020](#ref-nobody2020): references.bib has no entry "
        "'nobody2020'",
    ]
