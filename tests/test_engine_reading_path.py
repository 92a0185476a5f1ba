"""The eager engine stays a textbook: forward and backward of tanh(x @ W + b).sum() runs at most
200 non-blank lines of minigrad (benchmarks/reading_path.py), none of them the compiler's."""
from conftest import ROOT, load_script

reading_path = load_script(ROOT / "benchmarks" / "reading_path.py")


def test_forward_and_backward_of_a_layer_read_in_one_sitting():
    per_file, codes = reading_path.reading_path()
    total = sum(per_file.values())
    assert 100 < total <= 200, dict(per_file)   # (100: the count found the engine at all)
    assert {"minigrad/autograd.py", "minigrad/function.py", "minigrad/tensor.py"} <= set(per_file)
    assert not any("compile" in name for name in per_file)
    names = {code.co_name for code in codes}
    assert {"run_backward", "apply", "unbroadcast"} <= names
