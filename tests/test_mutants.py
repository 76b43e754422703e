from __future__ import annotations

import ast

from greenloop.mutants import mutants

CODE = '''def clamp(x, lo=0, hi=10):
    if x < lo:
        return lo
    if x > hi and hi != 0:
        return hi
    return x + 0
'''


def test_every_kind_of_mutant_changes_the_program_and_parses() -> None:
    found = mutants("m.py", CODE, 100)
    descriptions = {(m.line, m.description) for m in found}
    assert (2, "`<` -> `>=`") in descriptions and (4, "`and` -> `or`") in descriptions
    assert (1, "`0` -> `1`") in descriptions and (6, "`+` -> `-`") in descriptions
    assert (3, "`return ...` -> `return None`") in descriptions
    original = ast.dump(ast.parse(CODE))
    for m in found:
        assert ast.dump(ast.parse(m.source)) != original


def test_the_limit_spreads_mutants_over_the_file() -> None:
    everything = mutants("m.py", CODE, 100)
    three = mutants("m.py", CODE, 3)
    assert len(everything) > 6 and len(three) == 3
    assert three[0].line < three[-1].line and {m.source for m in three} <= {m.source for m in everything}
    assert mutants("m.py", CODE, 0) == []
