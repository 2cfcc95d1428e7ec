"""DRAGON on the embedded default (issue 31's must-show): `cpu`-preset runs, one per (reward, seed[, lr]), each
evaluated by the trainer on 64 held-out prompts with seeds shared by the base and the fine-tuned model.

    python bench/default_dragon.py RUNS_DIR --runs clap-score:0 clap-score:1 clap-score:2 aesthetics:0 [--lr 1e-4]
    python bench/default_dragon.py RUNS_DIR --collect          # only summarise the run folders already in RUNS_DIR
(other settings of a run folder, e.g. `--trainable prompt-path` or `--beta 100`, come from running the train CLI into RUNS_DIR)

Each run is `python -m dragon_nb.cli train --preset cpu --reward R --seed S [--lr LR] --run-dir RUNS_DIR/R-sS[-lrLR]`
(one thread per run when two run side by side: OMP_NUM_THREADS=1). The summary (win rate with its Wilson interval,
target reward before/after, Vendi and the other headline rewards before/after, wall time) goes to
bench/results/default_dragon.json, one row per run folder.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path

HEADLINE = ('aesthetics', 'clap-score', 'vendi-clap', 'vendi-vae')

def summary(run: Path) -> dict:
    ev = json.loads((run/'eval.json').read_text()); cfg = json.loads((run/'config.json').read_text())['config']
    row = dict(reward=ev['reward'], seed=cfg['seed'], lr=cfg['lr'], beta=cfg['beta'], trainable=cfg['trainable'] or 'all', win_rate=ev['win_rate'], wilson95=ev.get('wilson95'),
               reward_before=round(ev['reward_before'], 4), reward_after=round(ev['reward_after'], 4), n_prompts=ev['n_prompts'],
               matrix={k: [round(ev['matrix'][k]['before'], 4), round(ev['matrix'][k]['after'], 4)] for k in HEADLINE if k in ev['matrix']})
    rows = [json.loads(l) for l in (run/'metrics.jsonl').read_text().splitlines() if l.strip()]
    row['seconds_rounds'] = round(sum(r.get('seconds_generate', 0) + r.get('seconds_score', 0) + r.get('seconds_update', 0) for r in rows), 1)
    return row

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('runs_dir'); ap.add_argument('--runs', nargs='*', default=[], help='reward:seed pairs')
    ap.add_argument('--lr', default=None, help="learning rate (default: the preset's)"); ap.add_argument('--collect', action='store_true')
    ap.add_argument('--out', default='bench/results/default_dragon.json')
    a = ap.parse_args(); root = Path(a.runs_dir); root.mkdir(parents=True, exist_ok=True)
    if not a.collect:
        for spec in a.runs:
            reward, seed = spec.split(':')
            run = root/f"{reward}-s{seed}{f'-lr{a.lr}' if a.lr else ''}"
            cmd = [sys.executable, '-m', 'dragon_nb.cli', 'train', '--preset', 'cpu', '--reward', reward, '--seed', seed, '--run-dir', str(run)]
            if a.lr: cmd += ['--lr', a.lr]
            t = time.perf_counter(); subprocess.run(cmd, check=True, env=os.environ)
            print(f'{run.name}: {time.perf_counter() - t:.0f} s', flush=True)
    res = {run.name: summary(run) for run in sorted(root.iterdir()) if (run/'eval.json').exists()}
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    for k, r in res.items():
        print(f"{k:28s} {r['reward']:12s} seed {r['seed']} lr {r['lr']:g} beta {r['beta']:g} {r['trainable']}: win {r['win_rate']:.0%} (Wilson {r['wilson95'][0]:.0%}-{r['wilson95'][1]:.0%}), "
              f"{r['reward_before']:.3f} -> {r['reward_after']:.3f}, Vendi(clap) {r['matrix']['vendi-clap'][0]:.2f} -> {r['matrix']['vendi-clap'][1]:.2f}")

if __name__ == '__main__': main()
