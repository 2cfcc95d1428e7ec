"""`clap-score` fine-tunes run alone on the 2-core CPU, with torch's default threads: how much data fits 15 minutes?

Every earlier CPU clap run (`bench/clap_pool_demos.py`, `bench/clap_cpu_repro.py`) ran one thread per process, two
processes at once. A user's run has the machine to itself: this runs `python -m dragon_nb.cli train --preset cpu
--reward clap-score` one process at a time, with no thread variables set (OMP_NUM_THREADS etc. are removed from the
child's environment), for each setting and seed, and records its wall time:
- `c0`:   `--trainable prompt-path --k 8 --prompts-per-round 16 --updates-per-round 16 --lr 3e-5` (the best CPU clap settings);
- `x6u8`: `--trainable prompt-path --k 8 --prompts-per-round 64 --rounds 15 --updates-per-round 8 --lr 3e-5` (6x c0's
  samples; the H100 sweep's `x6u8`, `bench/results/clap_h100_sweep.json`);
- `x6u8lr6`: x6u8 at twice the learning rate (6e-5).
A run folder RUNS/<setting>_s<seed> with `eval.json` and `wall_seconds.txt` is kept, not re-run, so the bench resumes;
an interrupted run resumes from its checkpoint, and its `wall_seconds.txt` then counts only the resumed part.
The result, one entry per setting (a call rewrites the entries of the settings it runs, from the seeds it is given):
each run's win rate, Wilson interval, reward before/after and seconds, the mean win rate, and the gain pooled over
the seeds by the held-out captions' drums x reverb words (`train.caption_draws`).

    python bench/clap_two_threads.py [--settings c0,x6u8] [--seeds 0,1,2,3,4] [--runs data/runs/two-threads]
                                     [--out bench/results/clap_two_threads.json]

Session 20 (AMD EPYC with AVX-512, torch 2.13.0 CPU, 2 threads), seeds 0-6: c0 138-153 s, 67/61/50/70/55/62.5/69%
(mean 62.1%); x6u8 610-669 s, 72/64/56/69/77/58/64% (mean 65.6%; seed 4: Wilson 65-85%). Pooled over the seven seeds,
prompts asking for neither drums nor reverb win 51% (c0) and 58% (x6u8), prompts asking for both 73% and 78%.
x6u8lr6 (seeds 0-2, 629-658 s): 70/66/58% (mean 64.6%; x6u8 on those seeds 64.1%), the extra CLAP gain going to
drums-and-reverb prompts (84% win, mean gain +0.094).
"""
import argparse, collections, json, os, subprocess, sys, time
from pathlib import Path
import numpy as np

def settings() -> dict:
    "Each setting's DragonConfig fields over the `cpu` preset: c0 (`clap_pool_demos.C0`), x6u8 (6x its samples), x6u8lr6."
    from clap_pool_demos import C0
    x6u8 = {**C0, 'prompts_per_round': 64, 'rounds': 15, 'updates_per_round': 8}
    return dict(c0=C0, x6u8=x6u8, x6u8lr6={**x6u8, 'lr': 6e-5})

def cli_flags(setting: dict) -> str:
    "The `cli train` flags of a setting: `{'prompts_per_round': 64}` -> `--prompts-per-round 64`."
    return ' '.join(f"--{k.replace('_', '-')} {v}" for k, v in setting.items())
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')

def alone_env() -> dict:
    "This process's environment without the thread-count variables: a child gets torch's default threads."
    return {k: v for k, v in os.environ.items() if k not in THREAD_VARS}

def train_alone(run: Path, flags: str, seed: int) -> float:
    "Run `cli train` for `clap-score` into `run` with torch's default threads; returns (and stores) its wall time in seconds."
    env = alone_env()
    cmd = [sys.executable, '-m', 'dragon_nb.cli', 'train', '--preset', 'cpu', '--reward', 'clap-score', *flags.split(),
           '--seed', str(seed), '--run-dir', str(run)]
    t0 = time.time(); subprocess.run(cmd, env=env, check=True); secs = round(time.time() - t0, 1)
    (run/'wall_seconds.txt').write_text(f'{secs}\n')
    return secs

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--settings', default='c0,x6u8'); ap.add_argument('--seeds', default='0,1,2,3,4')
    ap.add_argument('--runs', default='data/runs/two-threads'); ap.add_argument('--out', default='bench/results/clap_two_threads.json')
    a = ap.parse_args()
    SETTINGS = settings()
    bad = [x for x in a.settings.split(',') if x not in SETTINGS]
    if bad: raise SystemExit(f'--settings: unknown {", ".join(map(repr, bad))}; use {", ".join(SETTINGS)}.')
    import torch
    from clap_cpu_repro import cpu_model
    from clap_pool_demos import merge_rows
    from clap_per_prompt import by_drums_reverb
    from dragon_nb.train import DragonConfig, caption_draws, run_eval_prompts
    child_threads = int(subprocess.run([sys.executable, '-c', 'import torch; print(torch.get_num_threads())'], env=alone_env(),
                                       capture_output=True, text=True, check=True).stdout)   # what each training run gets
    rows, pooled = {}, collections.defaultdict(lambda: ([], []))     # setting -> (caption attributes, per-prompt gains)
    for setting in a.settings.split(','):
        for seed in map(int, a.seeds.split(',')):
            run = Path(a.runs)/f'{setting}_s{seed}'
            done = (run/'eval.json').exists() and (run/'wall_seconds.txt').exists()
            secs = float((run/'wall_seconds.txt').read_text()) if done else train_alone(run, cli_flags(SETTINGS[setting]), seed)
            ev = json.loads((run/'eval.json').read_text()); info = json.loads((run/'config.json').read_text())
            rows[run.name] = dict(setting=setting, seed=seed, win_rate=ev['win_rate'], wilson95=ev['wilson95'],
                                  reward_before=ev['reward_before'], reward_after=ev['reward_after'], n_prompts=ev['n'],
                                  seconds=secs, git_commit=info['git_commit'], torch=info['torch'])
            print(run.name, rows[run.name], flush=True)
            g = np.array(ev['per_prompt']['after']) - np.array(ev['per_prompt']['before'])
            attrs, caps = caption_draws(len(g), seed)
            assert caps == run_eval_prompts(DragonConfig(**info['config'])), f'{run}: held-out captions differ from train.caption_draws'
            pooled[setting][0].extend(attrs); pooled[setting][1].extend(g)
    means = {s: round(float(np.mean([r['win_rate'] for r in rows.values() if r['setting'] == s])), 4) for s in pooled}
    by = {s: by_drums_reverb(at, np.array(g)) for s, (at, g) in pooled.items()}
    print('mean win rate', means); print('pooled by drums x reverb', by)
    head = dict(what=__doc__.split('\n')[0], cpu=cpu_model(), capability=torch.backends.cpu.get_cpu_capability(), threads=child_threads)
    merge_rows(a.out, {**head, **{s: dict(command=f'python -m dragon_nb.cli train --preset cpu --reward clap-score {cli_flags(SETTINGS[s])} --seed S',
                                         rows={k: r for k, r in rows.items() if r['setting'] == s}, mean_win_rate=means[s],
                                         pooled_by_drums_reverb=by[s]) for s in pooled}})

if __name__ == '__main__': main()
