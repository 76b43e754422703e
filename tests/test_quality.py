from __future__ import annotations

from conftest import GOOD_IMPL

from greenloop.quality import measure, metrics

TANGLED = '''def grade(score):
    # the letter for a score
    if score > 90:
        return "A"
    elif score > 80:
        return "B"
    elif score > 70 and score < 75:
        return "C-"
    for _ in range(3):
        if score < 0:
            raise ValueError(score)
    return "F"


class Report:
    def total(self, xs):
        return sum(x for x in xs if x)
'''


def test_metrics_tell_simple_code_from_tangled_code() -> None:
    simple, tangled = metrics(GOOD_IMPL), metrics(TANGLED)
    assert (simple.functions, simple.cc_max, simple.longest_function) == (1, 1, 2)
    assert tangled.functions == 2 and tangled.cc_max == 7 and tangled.cc_mean == 5.0
    assert tangled.comments == 1 and tangled.longest_function == 12
    assert 0 < tangled.maintainability < simple.maintainability <= 100


def test_measure_compares_with_the_base_revision_and_skips_non_python() -> None:
    out = measure({"textkit/slug.py": GOOD_IMPL, "grade.py": TANGLED, "README.md": "# x"},
                  {"textkit/slug.py": None, "grade.py": GOOD_IMPL})
    assert sorted(out) == ["grade.py", "textkit/slug.py"]
    assert "base" not in out["textkit/slug.py"]
    assert out["grade.py"]["base"] == metrics(GOOD_IMPL).to_json() and out["grade.py"]["cc_max"] == 7
