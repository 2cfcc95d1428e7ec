"""Does a `clap-score` fine-tune give the same win rate on another CPU? The c0 runs with the CPU's kernel set recorded.

`bench/clap_pool_demos.py --modes own --seed S` (rows `own`, `own_s1` ... `own_s4` of `bench/results/clap_pool_demos.json`)
measured the shipped loss with the settings of the best CPU clap run (`--trainable prompt-path --k 8 --prompts-per-round 16
--updates-per-round 16 --lr 3e-5`) on one machine of this workplace. This re-runs the same settings and seeds through the
same `run_c0` and records, with each row, the CPU model and the kernel set PyTorch dispatches to
(`torch.backends.cpu.get_cpu_capability()`: AVX512 / AVX2 / DEFAULT). `--capability avx2` forces AVX2 kernels on a machine
that has AVX-512 (the ATEN_CPU_CAPABILITY variable, set before torch loads). Each run re-trains: ~5 min on an AMD EPYC
(Zen 5) with two at once. `--set key=value` adds DragonConfig overrides to c0 (e.g. `--set k=16 --set prompts_per_round=8`).
Rows merge into --out, keyed by --key (default `c0_s<seed>_<capability>`).

    python bench/clap_cpu_repro.py --seed 3 [--capability avx2] [--set key=value ...] [--key NAME] [--runs data/runs/cpu-repro]
                                   [--out bench/results/clap_cpu_repro.json]

Session 19 result (AMD EPYC with AVX-512, torch 2.13.0 CPU, one thread per run, two runs at once; 64 held-out prompts):
seed 0: 62.5% on the machine of sessions 11-18 (row `own`), 60.9% with AVX2 kernels here, 56.3% with AVX-512 kernels;
seed 3: 76.6% (`own_s3`), 76.6%, 70.3%; seeds 0-4 with AVX-512 kernels: 56.3, 60.9, 50.0, 70.3, 54.7% (mean 58.4%;
earlier machine, rows `own`...`own_s4`: 62.5, 59.4, 53.1, 76.6, 60.9%, mean 62.5%). Base clips barely move between kernel
sets (mean per-prompt |delta CLAP| 0.0007), the fine-tuned model's by 0.02 and 7-8 of 64 prompts change sides. With
`--set k=16 --set prompts_per_round=8`: 53.1% / 57.8% (seeds 0 / 1); with `--set prompts_per_round=32 --set rounds=15
--set updates_per_round=8` (3x the data, 574 s): 64.1% (seed 0).
"""
import argparse, os
from pathlib import Path

def cpu_model() -> str:
    "The CPU model name from /proc/cpuinfo ('' where there is none)."
    p = Path('/proc/cpuinfo')
    for line in (p.read_text().splitlines() if p.exists() else []):
        if line.startswith('model name'): return line.split(':', 1)[1].strip()
    return ''

def parse_set(items: list[str], types: dict) -> dict:
    "`key=value` pairs to DragonConfig overrides, each value cast to its field's type (`types`: name -> type), as `cli train` does."
    out = {}
    for it in items:
        k, eq, v = (x.strip() for x in it.partition('='))
        if not eq: raise SystemExit(f'--set {it!r}: expected key=value, e.g. --set k=16.')
        if k not in types: raise SystemExit(f'--set {it!r}: {k!r} is not a DragonConfig field; use one of {", ".join(sorted(types))}.')
        try: out[k] = types[k](v)
        except ValueError: raise SystemExit(f'--set {it!r}: {v!r} is not of type {types[k].__name__}.')
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--capability', default=None, help='avx2, avx512 or default')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE'); ap.add_argument('--key', default=None)
    ap.add_argument('--runs', default='data/runs/cpu-repro'); ap.add_argument('--out', default='bench/results/clap_cpu_repro.json')
    a = ap.parse_args()
    if a.capability: os.environ['ATEN_CPU_CAPABILITY'] = a.capability
    import dataclasses, torch
    from clap_pool_demos import run_c0
    from dragon_nb.train import DragonConfig
    overrides = parse_set(a.set, {f.name: type(f.default) for f in dataclasses.fields(DragonConfig)})
    cap = torch.backends.cpu.get_cpu_capability()
    key = a.key or f'c0_s{a.seed}_{cap.lower()}'
    row = dict(seed=a.seed, cpu=cpu_model(), capability=cap, torch=torch.__version__, threads=torch.get_num_threads())
    run_c0(key, a.seed, a.runs, a.out, row=row, **overrides)

if __name__ == '__main__': main()
