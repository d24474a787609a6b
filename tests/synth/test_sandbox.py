from synth.sandbox import kernel_support, run_python


def test_returns_value_and_captures_print():
    result = run_python("def f(p):\n    print('hello')\n    return {'double': p * 2}\n", "f", 21, timeout_s=10)
    assert result.ok and result.value == {"double": 42}
    assert "hello" in result.stdout
    if kernel_support().ok:
        assert any(item.startswith("Landlock") for item in result.isolation)


def test_exception_is_reported_not_raised():
    result = run_python("def f(p):\n    raise ValueError('bad record')\n", "f", None, timeout_s=10)
    assert not result.ok and "ValueError: bad record" in result.error


def test_missing_function():
    result = run_python("x = 1\n", "f", None, timeout_s=10)
    assert not result.ok and "no function" in result.error


def test_wall_clock_timeout_kills():
    result = run_python("def f(p):\n    import time\n    time.sleep(30)\n", "f", None, timeout_s=1)
    assert not result.ok and result.killed and "timed out" in result.error


def test_memory_limit():
    result = run_python("def f(p):\n    return len(bytearray(800 * 1024 * 1024))\n", "f", None, timeout_s=20,
                        memory_mb=256)
    assert not result.ok and "memory" in result.error.lower()


def test_no_network():
    code = ("def f(p):\n    import socket\n    s = socket.socket()\n    s.settimeout(2)\n"
            "    s.connect(('1.1.1.1', 80))\n    return 'connected'\n")
    result = run_python(code, "f", None, timeout_s=10)
    assert not result.ok and ("PermissionError" in result.error or result.refused)


def test_writes_land_in_temp_cwd_and_map_items(tmp_path):
    result = run_python("import os\ndef f(p):\n    open('out.txt', 'w').write('x')\n    return os.getcwd()\n",
                        "f", None, timeout_s=10, cwd=tmp_path)
    assert result.ok and (tmp_path / "out.txt").exists()
    mapped = run_python("def f(p):\n    return 10 // p\n", "f", [1, 0, 5], timeout_s=10, map_items=True)
    assert mapped.value[0] == 10 and "__error__" in mapped.value[1] and mapped.value[2] == 2


def test_path_source(tmp_path):
    path = tmp_path / "gen.py"
    path.write_text("def generate(p):\n    return [p['n']]\n")
    assert run_python(path, "generate", {"n": 3}, timeout_s=10).value == [3]
    assert run_python(str(path), "generate", {"n": 4}, timeout_s=10).value == [4]
