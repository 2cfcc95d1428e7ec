"""Prompt-anchored DPO for `clap-score`: how much of the fine-tune's CLAP gain is specific to the prompt?

`bench/clap_per_prompt.py` showed that DRAGON on `clap-score` makes a change shared by every clip (drums, reverb), so
prompts that ask for it win and the others lose. This adds to the Diffusion-DPO loss of each pair (w, l) of prompt p a
penalty lam * mean(z'^2), where z' is the same pair's DPO logit (same timestep and noise) under another prompt p' of the
minibatch (the next pair's prompt): the fine-tune may raise the preference for w only under the prompt whose reward
preferred it, not under every prompt. If the per-prompt win rate is capped by the shared change, removing it should
leave the prompt-specific part; if the CLAP score then stops rising, (nearly) all of the gain was the shared change.
Settings of the best CPU clap run (`--trainable prompt-path --k 8 --prompts-per-round 16 --updates-per-round 16
--lr 3e-5`), one run per lam (lam 0 is the shipped loss, i.e. run c0), the usual 64 held-out prompts.
Each anchored run takes ~11 min on the 2-core CPU (the updates run the DiT twice as often).

    python bench/clap_anchor.py --lams 1,4 [--seed 0] [--runs data/runs/clap-anchor] [--out bench/results/clap_anchor.json]

Session 17 result: lam 1 -> 53.1% (Wilson 41-65%), CLAP score 0.389 -> 0.386; lam 4 -> 43.8%, 0.389 -> 0.387
(seed 0; lam 0, i.e. c0: 62.5%, 0.389 -> 0.412). The anchor removes the whole gain: what DPO learns here in 10 rounds
is the shared change, nothing the model applies only when the caption asks for it.
"""
import argparse
import torch
import dragon_nb.train as T
from dragon_nb.model import Conditioning
from clap_pool_demos import run_c0

def rolled(cond: Conditioning) -> Conditioning:
    "The conditioning of a DPO batch [winners; losers] with each pair given the next pair's prompt."
    b = cond.tokens.shape[0] // 2; r = torch.roll(torch.arange(b), -1)
    idx = torch.cat([r, r + b])
    return Conditioning(*(x[idx] for x in (cond.tokens, cond.global_states, cond.uncond_tokens, cond.uncond_global)))

def anchor(lam: float):
    "Patch `dragon_nb.train` so every DPO loss gets lam * mean(z'^2); the policy's and the reference's errors under p' are stashed as they are computed."
    stash, error, dpo = [], T.denoise_error, T.dpo_loss
    def denoise_error(model, x0, cond, t, noise):
        stash.append(error(model, x0, rolled(cond), t, noise))      # policy first (with grad), then the reference
        return error(model, x0, cond, t, noise)
    def dpo_loss(err_w, err_l, ref_w, ref_l, beta):
        loss, st = dpo(err_w, err_l, ref_w, ref_l, beta)
        (e2, r2), b = stash, len(err_w); stash.clear()
        z2 = -0.5 * beta * ((e2[:b] - e2[b:]) - (r2[:b] - r2[b:]))
        pen = (z2 ** 2).mean(); st['anchor'] = pen.item()
        return loss + lam * pen, st
    T.denoise_error, T.dpo_loss = denoise_error, dpo_loss

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lams', default='1,4'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--runs', default='data/runs/clap-anchor'); ap.add_argument('--out', default='bench/results/clap_anchor.json')
    a = ap.parse_args()
    orig = T.denoise_error, T.dpo_loss
    for lam in [float(x) for x in a.lams.split(',')]:
        T.denoise_error, T.dpo_loss = orig
        if lam: anchor(lam)
        key = f'lam{lam:g}' + (f'_s{a.seed}' if a.seed else '')
        run_c0(key, a.seed, a.runs, a.out, row=dict(lam=lam))

if __name__ == '__main__': main()
