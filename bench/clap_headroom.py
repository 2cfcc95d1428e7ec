"""Headroom of the `clap-score` reward on the embedded default (why DRAGON toward it is hard here).

For held-out prompts: the CLAP score of generated clips (k per prompt) — mean, spread within a prompt, best-of-k — next
to real toymusic clips rendered from the same attributes with the same captions, and the score of the generated clips
against the same caption with another instrument (how much of the score is about the prompt).

    python bench/clap_headroom.py [--n 24] [--k 4] [--model DIR] [--out bench/results/clap_headroom.json]
"""
import argparse, json, time
from pathlib import Path
import numpy as np, torch
from dragon_nb.model import load_pipeline
from dragon_nb.rewards import RewardContext, get_reward
from dragon_nb.toymusic import sample_attrs, caption, render, INSTRUMENTS, SAMPLE_RATE
from dragon_nb.encoders import get_encoder

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=24); ap.add_argument('--k', type=int, default=4)
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--model', default=None)
    ap.add_argument('--out', default='bench/results/clap_headroom.json')
    a = ap.parse_args(); t0 = time.time()
    pipe, clap = load_pipeline(a.model), get_encoder('clap')
    attrs = [sample_attrs(np.random.default_rng([31, i]), 'heldout') for i in range(a.n)]
    prompts = [caption(at, np.random.default_rng([32, i])) for i, at in enumerate(attrs)]
    s = pipe(prompts, seed=777, k=a.k, steps=a.steps, progress=False)
    ctx = RewardContext(s, pipe); r = ctx.score(get_reward('clap-score')).view(a.n, a.k)
    norm = lambda e: torch.nn.functional.normalize(e, dim=-1)
    real = torch.tensor(np.stack([render(at, 5000 + i) for i, at in enumerate(attrs)]))[:, None]
    own = clap.embed_text(prompts).pooled
    other = clap.embed_text([caption({**at, 'instrument': INSTRUMENTS[(INSTRUMENTS.index(at['instrument']) + 1) % len(INSTRUMENTS)]},
                                     np.random.default_rng([32, i])) for i, at in enumerate(attrs)]).pooled
    gen = norm(ctx.embed('clap').pooled)                          # the embeddings the reward just used
    res = dict(model=a.model or 'embedded default', n_prompts=a.n, k=a.k, steps=a.steps,
               generated_mean=r.mean().item(), generated_within_prompt_std=r.std(1).mean().item(),
               generated_between_prompt_std=r.mean(1).std().item(), generated_best_of_k=r.max(1).values.mean().item(),
               real_same_captions=(norm(clap.embed_audio(real, SAMPLE_RATE).pooled) * own).sum(-1).mean().item(),
               generated_vs_other_instrument_caption=(gen * other.repeat_interleave(a.k, 0)).sum(-1).mean().item())
    res = {k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}; res['seconds'] = round(time.time() - t0, 1)
    for k, v in res.items(): print(f'{k:40s} {v}')
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=2))

if __name__ == '__main__': main()
