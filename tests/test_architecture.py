"""The shape of the code that the linters do not check: handlers stay short.

(Layer and cycle rules are import-linter contracts in pyproject.toml, run by .ci/run.)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_HANDLER_LINES = 60


def test_no_handler_function_is_over_60_lines() -> None:
    long = []
    for path in sorted((ROOT / "handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_HANDLER_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long


def test_no_elif_chain_dispatches_buttons() -> None:
    """Buttons are dispatched by tables: no if/elif chain compares an action five times."""
    chains = []
    for path in sorted((ROOT / "handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            depth, current = 0, node
            while isinstance(current, ast.If) and len(current.orelse) == 1 \
                    and isinstance(current.orelse[0], ast.If):
                depth, current = depth + 1, current.orelse[0]
            if depth >= 4:
                chains.append(f"{path.name}:{node.lineno}")
    assert not chains, chains
