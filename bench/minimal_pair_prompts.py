"""Minimal-pair training prompts for DRAGON on `clap-score`: can the fine-tune learn "drums only when asked"?

On the shipped rule the fine-tune adds drums and reverb to every clip (`bench/clap_per_prompt.py`): prompts asking
for both win 90%, prompts asking for neither 12.5%. One reason could be that a round's prompts differ in everything at
once, so no pair of prompts isolates the drums and reverb words. This writes a training prompt file in which each round's
16 prompts are 4 training captions x the 4 (drums, reverb) combinations, with the same template and synonym draws, so
inside a group of 4 only the drums/reverb words differ. Train on it with `--prompt-file` (rounds take 16 lines each, in
order), then compare the run's anatomy with the shipped rule's:

    python bench/minimal_pair_prompts.py OUT.txt [--seed 0] [--rounds 10]
    python -m dragon_nb.cli train --preset cpu --reward clap-score --trainable prompt-path --k 8 --prompts-per-round 16 \\
        --updates-per-round 16 --lr 3e-5 --prompt-file OUT.txt [--seed 1] --run-dir RUN
    python bench/clap_per_prompt.py RUN --seeds 1 --out RUN/anatomy.json

Session 16 result (`bench/results/clap_minimal_pairs.json`, 8 min per run): win rate 57.8% and 56.3% (seeds 0/1;
the shipped rule: 62.5% on seed 0, 45-69% over seeds). Prompts asking for drums still win 67% (both seeds) against 44%
and 45% for those that do not, and mid-register prompts now lose (27% and 33%; shipped rule 58%): the fine-tune still
makes a change shared by every clip, only partly a different one. Training only the weights that read the caption
tokens as well (`--trainable attn2.to_k,attn2.to_v,cross_attention_proj --lr 1e-4`): 54.7% and 56.3%, drums prompts
74% and 64% against 24% and 48%, mid register 35% and 33%.
"""
import argparse
from pathlib import Path
import numpy as np
from dragon_nb.toymusic import sample_attrs, caption, N_TEMPLATES

def minimal_pair_prompts(seed: int = 0, rounds: int = 10, bases: int = 4) -> list[str]:
    "`rounds` x `bases` training captions, each in the 4 (drums, reverb) combinations; round r draws from [seed, r, 1]."
    out = []
    for r in range(rounds):
        rng = np.random.default_rng([seed, r, 1])
        for _ in range(bases):
            a, s, t = sample_attrs(rng, 'train'), int(rng.integers(2**31)), int(rng.integers(N_TEMPLATES))
            out += [caption(dict(a, drums=d, reverb=v), np.random.default_rng(s), template=t)
                    for d in (True, False) for v in (True, False)]
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out'); ap.add_argument('--seed', type=int, default=0); ap.add_argument('--rounds', type=int, default=10)
    a = ap.parse_args()
    ps = minimal_pair_prompts(a.seed, a.rounds)
    Path(a.out).write_text('\n'.join(ps) + '\n')
    print(f'{len(ps)} prompts -> {a.out}; first group:'); print('\n'.join(ps[:4]))

if __name__ == '__main__': main()
