"""Cross-prompt ("pool") demonstrations for `clap-score`: do they fix the shared shift that caps its per-prompt win rate?

`bench/clap_per_prompt.py` showed that DRAGON on `clap-score` adds the same things (drums, reverb) to every clip, so
prompts that ask for them win and prompts that do not lose. A CLAP score can rank any sample against any prompt, so a
round's pairs need not come from the prompt's own k samples. For each prompt p of a round, scoring all the round's
samples against p's text gives
- `own`   (DRAGON as shipped): best vs worst of p's own k samples;
- `pool`  : best vs worst of all the round's samples, both conditioned on p;
- `mixed` : best of all the round's samples vs worst of p's own samples, conditioned on p;
- `contrast`: best vs worst of p's own k samples, ranked by the CLAP score for p minus the sample's mean CLAP score
  over the round's prompts (a hubness correction: a change that raises a clip's score for every prompt alike, such as
  adding drums, no longer ranks it higher);
- `siblings`: trains on minimal-pair prompts (`bench/minimal_pair_prompts.py`: each round is 4 captions x the 4 (drums,
  reverb) combinations); best of p's own samples vs the worst, for p, of the samples of p and its 3 siblings (the same
  caption with other drums/reverb words), so a sample made for "with drums" can be the negative of "without drums";
- `shared`: best vs worst of p's own k samples ranked by their mean CLAP score over the round's prompts (the part of the
  score that `contrast` removes: what a clip gains for every caption alike).
- `swap` (caption swap): for each prompt, the one of its own samples whose CLAP scores over the round's captions spread
  most, paired with itself: conditioned on its best caption of the round (winner) vs its worst (loser). Both sides are
  the same clip with the same noise and timestep, so no change shared by every clip can lower the loss; only how the
  caption steers the denoiser can;
- `ownswap`: the shipped pair plus the `swap` pair for each prompt (twice the pairs per round).
Each mode is one `cpu`-preset run with the settings of the best CPU clap run (`--trainable prompt-path --k 8
--prompts-per-round 16 --updates-per-round 16 --lr 3e-5`, seed 0 unless --seed) and the usual held-out evaluation (64 prompts,
seeds shared with the base). The `own` mode is the baseline in the same script. Results merge into --out, keyed by
mode (and `_s<seed>` for seeds other than 0).
Session 17, `siblings`: 32.8% (seed 0, Wilson 23-45%, CLAP score 0.389 -> 0.368) and 39.1% (seed 1, 0.369 -> 0.351); the
DPO loss falls to ~0.06 (the negatives, made for another caption, are easy), drums=True prompts now lose more than the
others (31% / 33% vs 36% / 45%) and the mean gain is negative in 7 of the 8 drums x reverb cells of the two seeds.
Session 17, `shared`: 56.3% (seed 0, Wilson 44-68%, 0.389 -> 0.389) and 64.1% (seed 1, 52-75%, 0.369 -> 0.380).
Session 23 (each run alone with 2 threads, AMD EPYC; c0 = `own` on the same machine, `bench/clap_two_threads.py` and
the runs of session 20, seeds 0-6: 67.2, 60.9, 50.0, 70.3, 54.7, 62.5, 68.8%, mean 62.1%, CLAP gain +0.019): `swap` alone
53.1% / 51.6% (seeds 0 / 1; gain +0.017 / +0.007, 153-158 s): the loss falls to ~0.37 with implicit accuracy ~0.96, the
caption-to-clip association is learned and does not raise the per-prompt win rate. `ownswap`: 71.9, 60.9, 60.9, 57.8,
76.6, 64.1, 62.5% over seeds 0-6, **mean 65.0%** (gain +0.021; 188-210 s per run), per seed -12.5 to +21.9 points from
c0: as much as 6x the data (x6u8, 65.6% in 610-669 s) at a third of the time, no closer to 75%. `ownswap` with 3x the
prompts per round and half the passes (`--modes ownswap --prompts-per-round 48 --updates-per-round 8 [--seed S]`, rows
`ownswap_x3u8*`, 372-383 s): 65.6, 56.3, 53.1% on seeds 0-2 (mean 58.3%; CLAP gain +0.028), below the 1x runs on the
same seeds (64.6%).

    python bench/clap_pool_demos.py --modes own,pool,mixed,contrast,siblings,shared,swap,ownswap [--seed 0] [--runs data/runs/pool-demos] [--out bench/results/clap_pool_demos.json]
                                   [--prompts-per-round 48] [--updates-per-round 8]
"""
import argparse, json, time
from pathlib import Path
import torch
import dragon_nb.train as T
from dragon_nb.demos import Demos
from minimal_pair_prompts import minimal_pair_prompts

def pool_demos(ctx, mode: str) -> Demos:
    "Pairs for each prompt group, scored against every prompt of the round (`mode` as in the module docstring); re-indexes `ctx.samples` so each pair is conditioned on its prompt."
    s = ctx.samples
    a = torch.nn.functional.normalize(ctx.embed('clap').pooled, dim=-1)
    groups = torch.unique(s.group).tolist()
    gp = [s.prompts[int((s.group == g).nonzero()[0])] for g in groups]
    S = a @ ctx.text('clap', gp).pooled.T                         # (samples, prompts): the CLAP score of every sample for every prompt
    if mode == 'contrast': S = S - S.mean(1, keepdim=True)
    if mode == 'shared': S = S.mean(1, keepdim=True).expand_as(S)
    pairs = []                                                    # (winner, its caption, loser, its caption)
    for j, g in enumerate(groups):
        own = (s.group == g).nonzero().flatten()
        if mode != 'swap':                                        # two clips under the prompt's own caption
            w = int(S[:, j].argmax()) if mode in ('pool', 'mixed') else int(own[S[own, j].argmax()])
            sib = groups[4 * (j // 4):4 * (j // 4) + 4]              # p and its 3 drums/reverb siblings (minimal-pair prompts)
            cand = torch.cat([(s.group == h).nonzero().flatten() for h in sib]) if mode == 'siblings' else own
            l = int(S[:, j].argmin()) if mode == 'pool' else int(cand[S[cand, j].argmin()])
            if S[w, j] > S[l, j]: pairs.append((w, j, l, j))
        if mode in ('swap', 'ownswap'):                           # the own clip whose captions differ most, under its best vs worst
            i = int(own[(S[own].max(1).values - S[own].min(1).values).argmax()])
            pairs.append((i, int(S[i].argmax()), i, int(S[i].argmin())))
    s.latents = torch.stack([s.latents[x] for w, _, l, _ in pairs for x in (w, l)])
    s.prompts = [gp[c] for _, cw, _, cl in pairs for c in (cw, cl)]
    s.group = torch.arange(len(s.prompts)) // 2
    pos, neg = list(range(0, len(s.prompts), 2)), list(range(1, len(s.prompts), 2))
    rule = dict(contrast='own samples, CLAP score minus its mean over the round prompts',
                siblings='own best vs worst among the samples of the prompt and its drums/reverb siblings',
                shared="own samples ranked by their mean CLAP score over the round's prompts",
                swap="one clip under its best vs its worst caption of the round",
                ownswap="own best vs worst, plus one clip under its best vs its worst caption of the round").get(mode, 'best vs worst over the round')
    return Demos(pos, neg, True, dict(rule=f'{mode}: {rule}'))

C0 = dict(trainable='prompt-path', k=8, prompts_per_round=16, updates_per_round=16, lr=3e-5)   # the best CPU clap run's settings

def run_c0(key: str, seed: int, runs: str, out: str, row: dict | None = None, **overrides) -> dict:
    "Train `clap-score` with the c0 settings (plus `overrides`) into `runs/key`, evaluate, merge the row (`row` fields first) into the JSON file `out`."
    run = Path(runs)/key; t0 = time.time()
    cfg = T.preset_config('cpu', 'clap-score', **{**C0, **overrides}, seed=seed, run_dir=str(run))
    T.DragonTrainer(cfg).fit()
    ev = json.loads((run/'eval.json').read_text())
    row = dict(**(row or {}), win_rate=ev['win_rate'], wilson95=ev['wilson95'], reward_before=ev['reward_before'],
               reward_after=ev['reward_after'], n_prompts=ev['n'], seconds=round(time.time() - t0, 1), run=str(run), **overrides)
    print(key, row, flush=True)
    merge_rows(out, {key: row, 'settings': {k: v for k, v in vars(cfg).items() if k not in ('run_dir', 'seed', 'prompt_file')}})
    return row

def merge_rows(out: str, rows: dict):
    "Merge `rows` into the JSON file `out` under an exclusive lock, replacing the file atomically: runs that end together keep every row."
    import fcntl
    from dragon_nb.core import atomic_write
    p = Path(out); p.parent.mkdir(parents=True, exist_ok=True)
    with open(p.with_name(p.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = json.loads(p.read_text()) if p.exists() else {}
        atomic_write(p, lambda tmp: tmp.write_text(json.dumps({**res, **rows}, indent=1)))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--modes', default='own,pool,mixed,contrast'); ap.add_argument('--runs', default='data/runs/pool-demos')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default='bench/results/clap_pool_demos.json')
    ap.add_argument('--prompts-per-round', type=int, default=None, help="instead of c0's 16 (the row key gains _x<n/16>u<passes>)")
    ap.add_argument('--updates-per-round', type=int, default=None, help="instead of c0's 16")
    a = ap.parse_args()
    over = {k: v for k, v in (('prompts_per_round', a.prompts_per_round), ('updates_per_round', a.updates_per_round)) if v is not None}
    tag = f"_x{over.get('prompts_per_round', 16) // 16}u{over.get('updates_per_round', 16)}" if over else ''
    orig = T.build_demos
    for mode in a.modes.split(','):
        if mode not in ('own', 'pool', 'mixed', 'contrast', 'siblings', 'shared', 'swap', 'ownswap'):
            raise SystemExit(f"unknown mode {mode!r}: use own, pool, mixed, contrast, siblings, shared, swap or ownswap.")
        def build(reward, ctx, cfg, seed=0, mode=mode):
            d, st = orig(reward, ctx, cfg, seed)            # the round's reward statistics, and the shipped pairs
            return (d if mode == 'own' else pool_demos(ctx, mode)), st
        T.build_demos = build
        key = mode + tag + ('' if a.seed == 0 else f'_s{a.seed}')
        extra = dict(over)
        if mode == 'siblings':
            Path(a.runs).mkdir(parents=True, exist_ok=True); pf = Path(a.runs)/f'{key}_prompts.txt'
            pf.write_text('\n'.join(minimal_pair_prompts(a.seed)) + '\n'); extra['prompt_file'] = str(pf)
        run_c0(key, a.seed, a.runs, a.out, **extra)

if __name__ == '__main__': main()
