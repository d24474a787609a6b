from tests.bench.synth_bench import bench_generation, bench_quality


def test_bench_generation_runs_small():
    result = bench_generation(delay_s=0.05, records={1: 3, 16: 16})
    assert set(result["runs"]) == {"1", "16"} and result["speedup_16_vs_1"] > 1


def test_bench_quality_runs_small():
    result = bench_quality(n=300, embeddings=False)
    assert result["records"] == 300 and result["seconds"] > 0 and "duplicates" in result["steps_seconds"]
