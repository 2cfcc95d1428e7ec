"""Per-prompt anatomy of a finished DRAGON run on a per-sample reward (why `clap-score` stops short of a 75% win rate).

Re-samples the run's held-out evaluation prompts with S seed blocks for the base and the fine-tuned model (block 0 is
exactly the run's own evaluation: seeds 10000+i; block j adds 7919*j), then reports
- the per-prompt win rate when each prompt's before/after is the mean over the first 1..S blocks: seed noise shrinks
  with more blocks, so this converges to the share of prompts whose expected reward really went up;
- the mean gain and the win rate grouped by each caption attribute of the held-out prompts (drums on/off, reverb
  on/off, instrument, ...): a change shared by every clip shows up as attribute values that win and others that lose.
Sampled scores are cached in RUN/per_prompt.npz, so an interrupted call resumes.

    python bench/clap_per_prompt.py RUN_DIR [--seeds 6] [--eval-seed S] [--out bench/results/clap_per_prompt.json]

`--eval-seed S` uses the held-out prompts that a run with `--seed S` is evaluated on (cached in RUN/per_prompt_evalS.npz):
is a run's win rate a property of its model or of its draw of 64 held-out prompts?
"""
import argparse, json, time
from pathlib import Path
import numpy as np
from dragon_nb.train import DragonConfig, DragonTrainer, run_eval_prompts, eval_prompts, caption_draws
from dragon_nb.rewards import RewardContext
from dragon_nb.evaluate import win_rate
import torch

def cell_stats(gain: np.ndarray, m: np.ndarray) -> dict:
    "Count, mean gain and win rate of the prompts selected by the boolean mask `m` (`gain`: per-prompt gains)."
    return dict(n=int(m.sum()), mean_gain=round(float(gain[m].mean()), 5), win_rate=round(float((gain[m] > 0).mean()), 3))

def by_drums_reverb(attrs: list[dict], gain: np.ndarray) -> dict:
    "`cell_stats` of each drums x reverb cell (`attrs`: caption attributes, `gain`: per-prompt gains)."
    return {f'drums={d},reverb={r}': cell_stats(gain, np.array([x['drums'] == d and x['reverb'] == r for x in attrs]))
            for d in (True, False) for r in (True, False)}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run'); ap.add_argument('--seeds', type=int, default=6)
    ap.add_argument('--eval-seed', type=int, default=None, help="held-out prompts of this seed instead of the run's own")
    ap.add_argument('--out', default='bench/results/clap_per_prompt.json')
    a = ap.parse_args(); t0 = time.time(); run = Path(a.run)
    cfg = DragonConfig(**json.loads((run/'config.json').read_text())['config'])
    tr = DragonTrainer(cfg, progress=False)
    if not tr.resume(): raise SystemExit(f'{run}: no checkpoint to load. Pass the folder of a finished `cli train` run.')
    c = tr.cfg; es = c.seed if a.eval_seed is None else a.eval_seed
    prompts = run_eval_prompts(c) if a.eval_seed is None else eval_prompts(c.eval_prompts, es); n = len(prompts)
    if tr.reward.kind == 'set': raise SystemExit(f'{run}: reward {tr.reward.name} is a set reward; this bench is for per-sample rewards.')
    cache = run/('per_prompt.npz' if a.eval_seed is None else f'per_prompt_eval{es}.npz')
    sc = dict(np.load(cache)) if cache.exists() else {}
    if sc.get('base', np.zeros((n, 0))).shape[0] != n: sc = {}
    base, tuned = [sc.get(k, np.zeros((n, 0))) for k in ('base', 'tuned')]
    for j in range(base.shape[1], a.seeds):
        seeds = [10_000 + i + 7919 * j for i in range(n)]
        t = RewardContext(tr.eval_samples(prompts=prompts, seeds=seeds), tr.pipe).score(tr.reward).numpy()
        with tr.base_model() as p: b = RewardContext(tr.eval_samples(p, prompts, seeds), tr.pipe).score(tr.reward).numpy()
        base, tuned = np.c_[base, b], np.c_[tuned, t]
        np.savez(cache, base=base, tuned=tuned)
        print(f'seed block {j + 1}/{a.seeds}: {time.time() - t0:.0f} s', flush=True)
    base, tuned = base[:, :a.seeds], tuned[:, :a.seeds]
    by_seeds = []
    for s in range(1, a.seeds + 1):
        w = win_rate(torch.tensor(tuned[:, :s].mean(1)), torch.tensor(base[:, :s].mean(1)))
        by_seeds.append(dict(seed_blocks=s, win_rate=round(w['win_rate'], 4), wilson95=[round(x, 4) for x in w['wilson95']],
                             mean_gain=round(float((tuned[:, :s] - base[:, :s]).mean()), 5)))
        print(f"{s} seed blocks: win {w['win_rate']:.3f} (Wilson {w['wilson95'][0]:.3f}-{w['wilson95'][1]:.3f}), mean gain {by_seeds[-1]['mean_gain']:+.4f}")
    gain = (tuned - base).mean(1); by_attr = {}
    if not c.eval_prompt_file or a.eval_seed is not None:
        attrs, caps = caption_draws(n, es)
        assert caps == prompts, 'the held-out captions no longer match train.eval_prompts'
        for k in attrs[0]:
            for v in sorted({str(x[k]) for x in attrs}):
                by_attr[f'{k}={v}'] = cell_stats(gain, np.array([str(x[k]) == v for x in attrs]))
        for key in ('drums', 'reverb'):
            print(key, {v: (d['n'], d['mean_gain'], d['win_rate']) for v, d in by_attr.items() if v.startswith(key)})
        combo = by_drums_reverb(attrs, gain)
        print('drums x reverb', combo); by_attr['drums_x_reverb'] = combo
    res = dict(run=str(run), reward=tr.reward.name, config={k: v for k, v in cfg.__dict__.items() if k != 'run_dir'}, eval_seed=es, n_prompts=n,
               seed_blocks=a.seeds, by_seed_blocks=by_seeds, by_attribute=by_attr,
               per_prompt=[dict(prompt=p, base=round(float(base[i].mean()), 4), gain=round(float(gain[i]), 4)) for i, p in enumerate(prompts)],
               seconds=round(time.time() - t0, 1))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()
