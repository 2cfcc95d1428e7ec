"""Issue 31's budgets for a new embedded default, measured in the same run as the previous one:
generation of 16 clips at 20 steps (median of --reps, both models in this process, same threads), parameters,
and bytes of weights under data/.

    python bench/default_budgets.py [--new default] [--old default-v1] [--threads 2] [--reps 3]
"""
import argparse, json, statistics, time
from pathlib import Path
import torch
from dragon_nb.core import atomic_write
from dragon_nb.model import load_pipeline, shipped_models

PROMPTS = ['a calm melody on a plucked string', 'fast organ chords with drums', 'a sad bell tune', 'bright marimba'] * 4

def gen_seconds(pipe, reps: int) -> list[float]:
    pipe(PROMPTS[:2], seed=0, steps=2, progress=False)                 # warm-up
    ts = []
    for r in range(reps):
        t = time.perf_counter(); pipe(PROMPTS, seed=r, steps=20, progress=False); ts.append(time.perf_counter() - t)
    return ts

def folder_bytes(name: str) -> int:
    from dragon_nb.core import data_dir
    return sum(p.stat().st_size for p in (data_dir()/'models'/name).rglob('*') if p.is_file())

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--new', default='default'); ap.add_argument('--old', default='default-v1')
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--out', default='bench/results/default_budgets.json')
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    res = dict(threads=a.threads, reps=a.reps, shipped=shipped_models())
    for role, name in (('old', a.old), ('new', a.new)):
        pipe = load_pipeline(name); ts = gen_seconds(pipe, a.reps)
        res[role] = dict(model=name, denoiser=type(pipe.transformer).__name__, gen16_seconds=[round(t, 2) for t in ts],
                         gen16_median=round(statistics.median(ts), 2), params=sum(p.numel() for p in pipe.transformer.parameters()),
                         folder_bytes=folder_bytes(name) if name in shipped_models() else None)
        print(role, json.dumps(res[role]), flush=True)
    res['gen16_ratio_new_over_old'] = round(res['new']['gen16_median'] / res['old']['gen16_median'], 2)
    from dragon_nb.core import data_dir
    res['data_bytes'] = sum(p.stat().st_size for p in data_dir().rglob('*') if p.is_file() and 'cache' not in p.parts and 'runs' not in p.parts)
    print(f"generation, 16 clips at 20 steps: new/old = {res['gen16_ratio_new_over_old']}x (budget 2x); data/ = {res['data_bytes'] / 2**20:.1f} MiB (budget 40)")
    atomic_write(Path(a.out), lambda p: p.write_text(json.dumps(res, indent=1) + '\n'))

if __name__ == '__main__': main()
