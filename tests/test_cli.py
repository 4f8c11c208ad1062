"""The tinygraph command."""

import subprocess
import sys

import tinygraph as tg
from tinygraph.cli import main


def test_demo_learns_xor(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "accuracy 100%" in out
    assert out.count(" yes") == 4


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "tinygraph", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and tg.__version__ in result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_package_imports_no_autograd_library():
    from pathlib import Path
    import re
    source = "\n".join(p.read_text() for p in Path(tg.__file__).parent.glob("*.py"))
    assert not re.search(r"^\s*(import|from)\s+(torch|jax|autograd)\b", source, re.M)
