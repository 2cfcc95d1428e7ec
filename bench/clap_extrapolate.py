"""Does more (or less) of a finished run's own update raise its per-prompt win rate? Weight extrapolation on `clap-score`.

A DRAGON run moves the trainable weights from the base `w0` to `w1`. This evaluates the models `w0 + alpha (w1 - w0)`
for several `alpha` (1 = the run's own model; > 1 extrapolates, as ExPO does for language-model DPO; < 1 interpolates)
on the run's held-out evaluation prompts and seeds (the same protocol as `evaluate.evaluate_run`: one sample per prompt,
seeds 10000+i shared with the base) and, with `--draws`, on other draws of 64 held-out prompts (the prompts a run with
that `--seed` is evaluated on), so that an `alpha` is never judged only on the prompts it would be chosen on.
`--split train` draws the prompts from the training split instead (instrument/mood pairs the base model and the
fine-tune were trained on; `train.train_prompts(n, seed, 999)`, a round no run reaches): how much of the cap comes from
evaluating on unseen instrument/mood pairs?
`--soup` averages the given runs' trainable weights into one model (a "model soup" of runs that differ only in their
seed) and evaluates it on the `--draws` only: does averaging several short runs' updates keep what they share and
cancel what each run's prompts and seed added? Four c0 runs fit the 15 minutes that one x6u8 run takes.
If the win rate were capped by the size of the update, it would rise with `alpha`; if it is capped by which prompts
the update's direction helps, the mean reward rises with `alpha` and the win rate does not.

    python bench/clap_extrapolate.py RUN [RUN ...] [--alphas 0.5,1,1.5,2] [--draws 100] [--split heldout|train]
                                     [--soup] [--out bench/results/clap_extrapolate.json]

Each RUN is the folder of a finished `cli train` run on a per-sample reward (its checkpoint holds the trainable
weights). The results file keeps one entry per run (a call rewrites the entries of the runs it is given) and the mean
win rate per setting, prompt draw and alpha over all kept runs, a setting being the run folder's name less its `_s<seed>`
(the names `bench/clap_two_threads.py` gives);
`command` records the file's last call.
"""
import argparse, json, re, sys, time
from pathlib import Path
import numpy as np
import torch
from dragon_nb.train import DragonConfig, DragonTrainer, eval_prompts, train_prompts
from dragon_nb.rewards import RewardContext
from dragon_nb.evaluate import win_rate

TRAIN_SPLIT_ROUND = 999   # `--split train` captions: those of this round, which no run reaches

def blend(tr: DragonTrainer, tuned: dict, alpha: float):
    "Set the trainable weights of `tr`'s model to base + alpha (tuned - base) (`torch.lerp`: exactly the tuned weights at alpha 1); the base is `tr.ref` (the frozen copy)."
    ref = dict(tr.ref.named_parameters())
    with torch.no_grad():
        for n, p in tr.pipe.transformer.named_parameters():
            if n in tuned: p.copy_(torch.lerp(ref[n], tuned[n], alpha))

def load_runs(runs: list[Path]) -> tuple[DragonTrainer, dict, list[int]]:
    "A trainer on the first run's config with its frozen base, the trainable weights averaged over `runs` (a model soup; one run: its own), and the runs' seeds."
    for r in runs:
        if not (r/'config.json').exists() or not (r/'checkpoint.pt').exists():
            raise SystemExit(f'{r}: no config.json and checkpoint.pt. Pass the folder of a finished `cli train` run.')
    cfgs = [json.loads((r/'config.json').read_text())['config'] for r in runs]
    same = lambda d: {k: v for k, v in d.items() if k not in ('seed', 'run_dir')}
    for r, c in zip(runs[1:], cfgs[1:]):
        if same(c) != same(cfgs[0]): raise SystemExit(f'{r}: its settings differ from {runs[0]} beyond the seed; a soup averages runs of one setting.')
    tr = DragonTrainer(DragonConfig(**cfgs[0]), progress=False)
    if tr.reward.kind == 'set': raise SystemExit(f'{runs[0]}: reward {tr.reward.name} is a set reward; this bench is for per-sample rewards.')
    if tr.ref is None: raise SystemExit(f'{runs[0]}: a LoRA run; this bench blends full weights (`--trainable` runs).')
    names = [n for n, p in tr.pipe.transformer.named_parameters() if p.requires_grad]; states = []
    for r in runs:
        states.append(torch.load(r/'checkpoint.pt', weights_only=False)['trainable'])
    return tr, {n: sum(st[n] for st in states) / len(states) for n in names}, [c['seed'] for c in cfgs]

def run_entry(runs: list[Path], alphas: list[float], draws: list[int], split: str = 'heldout') -> tuple[str, dict]:
    """Win rate and reward before/after for every alpha; one run: on its own held-out prompts and on each extra draw;
    several (a soup): on the extra draws only. Returns the entry's name and the entry."""
    t0 = time.time(); soup = len(runs) > 1
    tr, tuned, run_seeds = load_runs(runs); c = tr.cfg
    if split == 'train' and c.rounds >= TRAIN_SPLIT_ROUND: raise SystemExit(f'{runs[0]}: its {c.rounds} rounds reach the --split train prompts.')
    name = f"soup{len(runs)}_{re.sub(r'_s[0-9]+$', '', runs[0].name)}" if soup else runs[0].name
    out = {}
    for d in ([] if soup else [c.seed]) + [x for x in draws if soup or x != c.seed]:
        prompts = eval_prompts(c.eval_prompts, d) if split == 'heldout' else train_prompts(c.eval_prompts, d, TRAIN_SPLIT_ROUND)
        score = lambda pipe=None: RewardContext(tr.eval_samples(pipe, prompts), tr.pipe).score(tr.reward)
        with tr.base_model() as p: base = score(p)                  # the base as `evaluate_run` samples it
        rows = {}
        for a in alphas:
            blend(tr, tuned, a); s = score(); w = win_rate(s, base)
            rows[str(a)] = dict(win_rate=round(w['win_rate'], 4), wilson95=[round(x, 4) for x in w['wilson95']],
                                reward_before=round(float(base.mean()), 5), reward_after=round(float(s.mean()), 5))
            print(f"{name} draw {d} alpha {a}: win {w['win_rate']:.3f} (Wilson {w['wilson95'][0]:.3f}-{w['wilson95'][1]:.3f}), "
                  f"{base.mean():.4f} -> {s.mean():.4f}", flush=True)
        out['own' if d == c.seed and not soup else f'draw{d}'] = rows
    which = dict(runs=[str(r) for r in runs], seeds=run_seeds) if soup else dict(run=str(runs[0]), seed=run_seeds[0])
    return name, dict(**which, split=split, by_draw=out, seconds=round(time.time() - t0, 1))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('runs', nargs='+')
    ap.add_argument('--alphas', default='0.5,1,1.5,2', help='comma-separated blend factors (1 = the run itself)')
    ap.add_argument('--draws', default='', help='comma-separated seeds of extra prompt draws (of the --split)')
    ap.add_argument('--split', default='heldout', choices=('heldout', 'train'), help='caption split of the prompt draws')
    ap.add_argument('--soup', action='store_true', help='average the runs\' weights into one model (runs of one setting, other seeds)')
    ap.add_argument('--out', default='bench/results/clap_extrapolate.json')
    a = ap.parse_args()
    alphas = [float(x) for x in a.alphas.split(',')]; draws = [int(x) for x in a.draws.split(',') if x.strip()]
    if a.soup and not draws: raise SystemExit('--soup evaluates on the --draws only: give some, e.g. --draws 0,1,2,3,100.')
    out = Path(a.out); res = json.loads(out.read_text()) if out.exists() else dict(runs={})
    res['command'] = 'python ' + ' '.join(sys.argv)
    for group in ([a.runs] if a.soup else [[r] for r in a.runs]):
        name, entry = run_entry([Path(r) for r in group], alphas, draws, a.split); res['runs'][name] = entry
        mean = {}
        for name, e in res['runs'].items():
            for draw, rows in e['by_draw'].items():
                for al, row in rows.items(): mean.setdefault(f"{re.sub(r'_s[0-9]+$', '', name)}|{draw[:4]}|{al}", []).append(row['win_rate'])
        res['mean_win_rate'] = {k: dict(mean=round(float(np.mean(v)), 4), runs=len(v)) for k, v in sorted(mean.items())}
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))
    for k, v in res['mean_win_rate'].items(): print(k, v)

if __name__ == '__main__': main()
