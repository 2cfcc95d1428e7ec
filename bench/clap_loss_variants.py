"""Loss variants for `clap-score`: guided Diffusion-DPO, winners only, and high-noise timesteps only.

`--variant guided` scores each demonstration under the sampler the model is used with. Diffusion-DPO compares the per-sample denoising errors of the conditional prediction c. The clips, though, are sampled
with classifier-free guidance, u + w (c - u) (w = 2 for the embedded default), and the CLAP score is about the
prompt, i.e. about c - u. Here the DPO errors (policy and reference alike) are those of the guided prediction: a change
shared by the conditional and unconditional branches moves it by d, a prompt-specific change of c by w d, so the loss
weighs the prompt-specific part of the update w times more than the shipped loss does. `bench/clap_anchor.py` showed
that what the shipped loss learns in a 15-minute CPU run is the change shared by every clip; this asks whether scoring
the pair under the guided sampler moves the per-prompt win rate. Settings of the best CPU clap run (`--trainable
prompt-path --k 8 --prompts-per-round 16 --updates-per-round 16 --lr 3e-5`), 64 held-out prompts. Each run takes
~10 min on the 2-core CPU with two at once (the updates run the DiT twice as often).

`--variant winners` keeps only the winner's half of the DPO logit, -log sigmoid(-beta/2 (err_w - ref_err_w)): each prompt's
best clip is made more likely under its own prompt, and nothing is pushed away from the losers, whose shared features
(no drums) are what the shipped loss removes from every clip. About 8 min per run.

`--variant tband --t-lo 0.6` draws the DPO timesteps from [t_lo, 1] instead of [0, 1]. In the embedded default the prompt
acts at high noise: the mean |c - u|^2 of the v-prediction is 0.002-0.005 for t <= 0.65 and 0.014 / 0.045 at t = 0.85 /
0.95, and the v-error under another held-out prompt exceeds the own prompt's by 0.008-0.028 for t <= 0.55 against 0.15 /
0.44 at 0.85 / 0.95 (`--t-profile`: 32 held-out prompts, their own 20-step clips, 10 s). Uniform timesteps spend most of each pair's
comparisons where the caption barely matters. About 8 min per run.

    python bench/clap_loss_variants.py [--variant guided|winners|tband|demog] [--t-lo 0.6] [--demo-g 1] [--rounds 10] [--w 2] [--seed 0] [--lr 3e-5] [--runs data/runs/clap-loss]
                                       [--out bench/results/clap_loss_variants.json]

`--variant demog --demo-g 1` samples each round's demonstrations at guidance 1 (or any `--demo-g`) while the evaluation
keeps the model's own scale (2). At 1 the clips come from the conditional prediction alone, the one the DPO loss scores,
so the pairs are on-policy for the loss, and each demonstration step runs the DiT once instead of twice; at 3 the clips
follow the caption more closely. About 2 min per run alone on the 2-core CPU.

`--guidance-sweep 1,2,3` instead scores the base model's clips for the same held-out prompts and seeds at each guidance
scale (about 25 s each) and their per-prompt win rate against the model's own scale: if more guidance raised the CLAP
score per prompt, a fine-tune could learn to act like it.

Session 18 result (seed 0 unless noted; c0, the shipped loss: 62.5%, 0.389 -> 0.412): w 2 -> 60.9% (Wilson 49-72%), CLAP
score 0.389 -> 0.404; seed 1 57.8% (0.369 -> 0.380); w 2 at lr 1e-4 56.3%; w 4 54.7% (0.389 -> 0.391). Guidance sweep of
the base model: mean CLAP score 0.341 / 0.370 / 0.389 / 0.388 / 0.379 / 0.358 / 0.325 / 0.270 at 1 / 1.5 / 2 / 2.5 / 3 / 4 /
6 / 9, win rates against 2 from 27% to 59% (2.5). The shipped scale is already the best; the guided loss does not help.
Winners only: 32.8% (seed 0, 0.389 -> 0.356) and 25.0% (seed 1, 0.369 -> 0.330); the loss falls to 0.02-0.10 with the
implicit accuracy at 0.4-0.5: the model fits its own 8-step demonstrations and its 20-step clips get worse.
High-noise timesteps: t_lo 0.6 -> 60.9% (seed 0, 0.389 -> 0.408) and 67.2% (seed 1, 0.369 -> 0.390); t_lo 0.8 -> 59.4%
(seed 0); t_lo 0.6 with 16 rounds (783 s, two at once) 57.8% and 67.2%; t_lo 0.6 on seeds 2 and 3: 56.3% and 59.4%. The
shipped loss (`clap_pool_demos.py --modes own --seed S`) on seeds 0-3: 62.5%, 59.4%, 53.1%, 76.6% (mean 62.9%; t_lo 0.6:
60.9%). Seeds 0 and 1 keep the drums pattern: prompts asking for drums and reverb win 70-88%.
Session 21, demonstration guidance (seeds 0-3, each run alone with 2 threads; c0 alone on the same seeds and machine,
`bench/clap_two_threads.py`: 67.2%, 60.9%, 50.0%, 70.3%, mean 62.1%): guidance 1 -> 56.3%, 56.3%, 50.0%, 67.2% (mean
57.4%; 117-129 s per run against c0's 138-153 s); guidance 3 -> 62.5%, 54.7%, 56.3%, 50.0% (mean 55.9%). Pooled over the
four seeds, prompts asking for drums and reverb win 71% (g 1) and 66% (g 3), those asking for neither 51% and 41% (c0:
70%, 51%). Neither scale helps: the model's own scale gives the best demonstrations as it gives the best clips.
"""
import argparse
import torch
import dragon_nb.train as T
from dragon_nb.model import v_diffuse, dit_forward, load_pipeline
from dragon_nb.rewards import RewardContext, get_reward
from dragon_nb.evaluate import win_rate
from clap_pool_demos import run_c0, merge_rows

def v_error(pred, v):
    "Per-sample v-MSE `(b,)`, as `dragon_nb.model.denoise_error` computes it, for a prediction made here."
    return (pred - v).pow(2).mean(dim=(1, 2))

def guided(w: float):
    "Patch `dragon_nb.train` so the policy's and the reference's per-sample errors are those of the guided prediction."
    def denoise_error(model, x0, cond, t, noise):
        xt, v = v_diffuse(x0, t, noise)
        u = dit_forward(model, xt, t, cond, uncond=True)
        return v_error(u + w * (dit_forward(model, xt, t, cond) - u), v)
    T.denoise_error = denoise_error

def guidance_sweep(scales: list[float], out: str, seed: int = 0, n: int = 64):
    "The base model's CLAP score on the held-out prompts at each guidance scale (the cpu preset's eval prompts, seeds, steps and noise)."
    pipe, cfg = load_pipeline(None), T.preset_config('cpu', 'clap-score', seed=seed)
    prompts = T.run_eval_prompts(cfg); seeds = T.eval_seeds(len(prompts))
    score = lambda g: RewardContext(pipe(prompts, seeds=seeds, steps=cfg.eval_steps, guidance=g, progress=False, noise=cfg.noise),
                                    pipe).score(get_reward('clap-score')).float()
    own = score(pipe.guidance); rows = {}
    for g in scales:
        v = own if g == pipe.guidance else score(g)
        rows[f'{g:g}'] = dict(mean=round(v.mean().item(), 4), **({} if g == pipe.guidance else win_rate(v, own)))
        print(f'guidance {g:g}', rows[f'{g:g}'], flush=True)
    merge_rows(out, {f'base_guidance_s{seed}': dict(model_guidance=pipe.guidance, n_prompts=len(prompts), scales=rows)})

def winners_only():
    "Patch `dragon_nb.train` so the DPO loss keeps only the winners' term (the losers' errors are computed and unused)."
    dpo = T.dpo_loss
    def dpo_loss(err_w, err_l, ref_w, ref_l, beta):
        _, st = dpo(err_w, err_l, ref_w, ref_l, beta)
        inside = -0.5 * beta * (err_w - ref_w)
        return -torch.nn.functional.logsigmoid(inside).mean(), st
    T.dpo_loss = dpo_loss

def demo_guidance(g: float):
    "Patch `dragon_nb.train` so each round's demonstrations are sampled at guidance `g`; the evaluation keeps the model's own scale."
    run_round = T.DragonTrainer.run_round
    def patched(self, r):
        own = self.pipe.guidance; self.pipe.guidance = g
        try: return run_round(self, r)
        finally: self.pipe.guidance = own
    T.DragonTrainer.run_round = patched

def t_band(lo: float):
    "Patch `dragon_nb.train` so the DPO errors (policy and reference alike) are taken at t = lo + (1 - lo) u for the drawn u."
    error = T.denoise_error
    T.denoise_error = lambda model, x0, cond, t, noise: error(model, x0, cond, lo + (1 - lo) * t, noise)

@torch.no_grad()
def t_profile(n: int = 32, seed: int = 0):
    "Where the prompt acts: by timestep, |c - u|^2 and the v-error under the own vs another held-out prompt (the next one's)."
    pipe = load_pipeline(None); prompts = T.eval_prompts(n, seed)
    x0 = pipe(prompts, seed=5, steps=20, progress=False, noise='gaussian', output='latent').latents
    cond = T._cond_for(pipe, prompts); other = T._cond_for(pipe, prompts[1:] + prompts[:1])
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    for t0 in [0.05 + 0.1 * i for i in range(10)]:
        t = torch.full((n,), t0); xt, v = v_diffuse(x0, t, noise)
        c, u, o = (dit_forward(pipe.transformer, xt, t, cd, uncond=un) for cd, un in ((cond, False), (cond, True), (other, False)))
        ec, eo = v_error(c, v), v_error(o, v)
        print(f't {t0:.2f}  |c-u|^2 {(c - u).pow(2).mean():.4f}  err own {ec.mean():.4f}  other - own {(eo - ec).mean():.4f}'
              f'  own < other {(ec < eo).float().mean():.2f}', flush=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--variant', default='guided', choices=['guided', 'winners', 'tband', 'demog'])
    ap.add_argument('--t-lo', type=float, default=0.6)
    ap.add_argument('--w', type=float, default=2.0); ap.add_argument('--demo-g', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--lr', type=float, default=3e-5); ap.add_argument('--beta', type=float, default=1000.0)
    ap.add_argument('--rounds', type=int, default=10)
    ap.add_argument('--runs', default='data/runs/clap-loss'); ap.add_argument('--out', default='bench/results/clap_loss_variants.json')
    ap.add_argument('--guidance-sweep', default='', help='comma-separated guidance scales: score the base model instead of training')
    ap.add_argument('--t-profile', action='store_true', help='print where the prompt acts, by timestep, and stop')
    a = ap.parse_args()
    if a.t_profile: return t_profile()
    if a.guidance_sweep: return guidance_sweep([float(x) for x in a.guidance_sweep.split(',')], a.out, a.seed)
    if a.variant == 'winners': winners_only(); key, row = f'winners_s{a.seed}', dict(variant='winners')
    elif a.variant == 'tband': t_band(a.t_lo); key, row = f'tband{a.t_lo:g}_s{a.seed}', dict(variant='tband', t_lo=a.t_lo)
    elif a.variant == 'demog': demo_guidance(a.demo_g); key, row = f'demog{a.demo_g:g}_s{a.seed}', dict(variant='demog', demo_guidance=a.demo_g)
    else: guided(a.w); key, row = f'w{a.w:g}_s{a.seed}', dict(variant='guided', w=a.w)
    key += (f'_lr{a.lr:g}' if a.lr != 3e-5 else '') + (f'_b{a.beta:g}' if a.beta != 1000 else '') + (f'_r{a.rounds}' if a.rounds != 10 else '')
    run_c0(key, a.seed, a.runs, a.out, row=row, lr=a.lr, beta=a.beta, rounds=a.rounds)

if __name__ == '__main__': main()
